using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using QueryCache;
using QueryCache.Internal;
using QueryCache.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the query cache.</summary>
public static class QueryCacheServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="QueryCacheService"/> (also as <see cref="IQueryCacheService"/>), its options (validated when the
    /// host starts) and meter <c>QueryCache</c>. The cache uses a registered <see cref="NpgsqlDataSource"/> when there is
    /// one (build it with <c>UseVector()</c>), else one built from <see cref="QueryCacheOptions.ConnectionString"/>.
    /// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> registered by the host is used to embed text.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="QueryCacheOptions.EmbeddingModel"/> is required.</param>
    public static IServiceCollection AddQueryCache(this IServiceCollection services, Action<QueryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<QueryCacheOptions>().Configure(configure);
        return services.AddQueryCacheCore();
    }

    /// <summary>Adds the query cache with options bound from a configuration section (for example <c>"QueryCache"</c>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The section whose keys are the <see cref="QueryCacheOptions"/> property names.</param>
    public static IServiceCollection AddQueryCache(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<QueryCacheOptions>().Bind(section);
        return services.AddQueryCacheCore();
    }

    /// <summary>
    /// Adds a health check that reports the cache database unhealthy when it cannot be reached, lacks the <c>vector</c>
    /// extension, has not reached the latest QueryCache migration, or stores embeddings of another dimension.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="tags">Tags to filter checks by, for example "ready".</param>
    public static IHealthChecksBuilder AddQueryCache(this IHealthChecksBuilder builder, string name = "querycache", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name,
            sp => new QueryCacheHealthCheck(sp.GetRequiredService<QueryCacheDataSource>(), sp.GetRequiredService<IOptions<QueryCacheOptions>>()),
            HealthStatus.Unhealthy, tags));
    }

    private static IServiceCollection AddQueryCacheCore(this IServiceCollection services)
    {
        services.AddOptions<QueryCacheOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryCacheOptions>, QueryCacheOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryCacheOptions>, ConnectionValidator>());
        services.AddOptions<QueryCacheJobOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryCacheJobOptions>, QueryCacheJobOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<QueryCacheMetrics>();
        services.TryAddSingleton(sp =>
        {
            var hostSource = sp.GetService<NpgsqlDataSource>();
            return hostSource is not null
                ? new QueryCacheDataSource(hostSource, owned: false)
                : new QueryCacheDataSource(QueryCacheDataSource.Build(sp.GetRequiredService<IOptions<QueryCacheOptions>>().Value.ConnectionString!), owned: true);
        });
        services.TryAddSingleton(sp => new QueryCacheMaintenance(
            sp.GetRequiredService<QueryCacheDataSource>(),
            sp.GetRequiredService<IOptions<QueryCacheOptions>>(),
            sp.GetRequiredService<IOptions<QueryCacheJobOptions>>(),
            sp.GetRequiredService<QueryCacheMetrics>(),
            sp.GetRequiredService<ILogger<QueryCacheMaintenance>>(),
            sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>()));
        services.TryAddSingleton(sp => new QueryCacheService(
            sp.GetRequiredService<QueryCacheDataSource>(),
            sp.GetRequiredService<IOptions<QueryCacheOptions>>(),
            sp.GetRequiredService<QueryCacheMetrics>(),
            sp.GetRequiredService<ILogger<QueryCacheService>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>(),
            sp.GetRequiredService<QueryCacheMaintenance>()));
        services.TryAddSingleton<IQueryCacheService>(sp => sp.GetRequiredService<QueryCacheService>());
        return services;
    }

    /// <summary>A connection string is needed unless the host registered an <see cref="NpgsqlDataSource"/>.</summary>
    private sealed class ConnectionValidator(IServiceProvider services) : IValidateOptions<QueryCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, QueryCacheOptions options)
        {
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                try
                {
                    _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                }
                catch (ArgumentException ex)
                {
                    return ValidateOptionsResult.Fail($"QueryCacheOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}");
                }

                return ValidateOptionsResult.Success;
            }

            return services.GetService<NpgsqlDataSource>() is not null
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    "QueryCacheOptions.ConnectionString is not set and no NpgsqlDataSource is registered; set the connection string of the database that holds the askwealth schema.");
        }
    }
}
