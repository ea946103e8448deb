using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using QueryCache;
using QueryCache.Correctness;
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
    /// An <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> registered by the host is used to embed text.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="QueryCacheOptions.EmbeddingModel"/> is required.</param>
    /// <returns>The service collection.</returns>
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
    /// <returns>The service collection.</returns>
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
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddQueryCache(this IHealthChecksBuilder builder, string name = "querycache", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<QueryCacheHealthCheck>(name, HealthStatus.Unhealthy, tags ?? []);
    }

    /// <summary>
    /// Turns grey-zone verification on with <see cref="ChatClientCacheHitVerifier"/>: candidate hits between the threshold
    /// and <see cref="QueryCacheOptions.VerifyBelowSimilarity"/> are served only when the chat client says the cached
    /// answer answers the question. Uses the registered <c>IChatClient</c> unless <paramref name="chatClient"/> picks another
    /// (a keyed one, say); a small fast model is enough.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="chatClient">Picks the judge; null for the registered <c>IChatClient</c>.</param>
    /// <param name="domain">What the assistant answers questions about, for the judge's instructions (for example "the
    /// ISAs, pensions and accounts of a wealth manager"); null for none.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddQueryCacheChatVerifier(this IServiceCollection services,
        Func<IServiceProvider, Microsoft.Extensions.AI.IChatClient>? chatClient = null, string? domain = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ICacheHitVerifier>(sp => new ChatClientCacheHitVerifier(
            chatClient?.Invoke(sp) ?? sp.GetRequiredService<Microsoft.Extensions.AI.IChatClient>(), domain));
        return services;
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
        services.TryAddSingleton<CacheDataSource>();
        services.TryAddSingleton<StandbyLag>();
        services.TryAddSingleton<StandbyReads>();
        services.TryAddSingleton<LocalTier>();
        services.TryAddSingleton<FlightLock>();
        services.TryAddSingleton<MissCoordinator>();
        services.TryAddSingleton<FailOpenExecutor>();
        services.TryAddSingleton<QueryEmbedder>();
        services.TryAddSingleton<ICacheAdmissionPolicy, TimeSensitiveAdmissionPolicy>();
        services.TryAddSingleton<CandidateJudge>();
        services.TryAddSingleton<LabelRecorder>();
        services.TryAddSingleton<DecisionStore>();
        services.TryAddSingleton<AuditRunner>();
        services.TryAddSingleton<HitRecorder>();
        services.TryAddSingleton<PendingIndexer>();
        services.TryAddSingleton<IEmbeddingCache, TextEmbeddingStore>();
        services.TryAddSingleton<CacheLookups>();
        services.TryAddSingleton<CacheWriter>();
        services.TryAddSingleton<SharingCorroborator>();
        services.TryAddSingleton<CacheAdministration>();
        services.TryAddSingleton<JobStateStore>();
        services.TryAddSingleton<JobRunner>();
        services.TryAddSingleton<BackfillEmbedder>();
        services.TryAddSingleton<BackfillRun>();
        services.TryAddSingleton<CleanupRun>();
        services.TryAddSingleton<IndexBuilds>();
        // QueryCacheService is public and its collaborators internal, so its constructor is too: one factory for it.
        services.TryAddSingleton(sp => new QueryCacheService(sp.GetRequiredService<CacheLookups>(), sp.GetRequiredService<CacheWriter>(),
            sp.GetRequiredService<CacheAdministration>(), sp.GetRequiredService<HitRecorder>(), sp.GetRequiredService<MissCoordinator>(),
            sp.GetRequiredService<BackfillRun>(), sp.GetRequiredService<CleanupRun>(), sp.GetRequiredService<DecisionStore>(),
            sp.GetRequiredService<LabelRecorder>(), sp.GetRequiredService<AuditRunner>(), sp.GetRequiredService<JobStateStore>(), sp.GetRequiredService<IndexBuilds>(),
            sp.GetRequiredService<IOptions<QueryCacheOptions>>()));
        services.TryAddSingleton<IQueryCacheService>(sp => sp.GetRequiredService<QueryCacheService>());
        return services;
    }

    /// <summary>A connection string is needed unless the host registered an <see cref="NpgsqlDataSource"/>.</summary>
    private sealed class ConnectionValidator(IServiceProvider services) : IValidateOptions<QueryCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, QueryCacheOptions options)
        {
            if (!string.IsNullOrWhiteSpace(options.ReadConnectionString) && Parse(options.ReadConnectionString) is { } readProblem)
            {
                return ValidateOptionsResult.Fail($"QueryCacheOptions.ReadConnectionString is not a valid Npgsql connection string: {readProblem}");
            }

            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return Parse(options.ConnectionString) is { } problem
                    ? ValidateOptionsResult.Fail($"QueryCacheOptions.ConnectionString is not a valid Npgsql connection string: {problem}")
                    : ValidateOptionsResult.Success;
            }

            return services.GetService<NpgsqlDataSource>() is not null
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    "QueryCacheOptions.ConnectionString is not set and no NpgsqlDataSource is registered; set the connection string of the database that holds the askwealth schema.");
        }

        /// <summary>Why <paramref name="connectionString"/> is not a valid Npgsql connection string, or null.</summary>
        private static string? Parse(string connectionString)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(connectionString);
                return null;
            }
            catch (ArgumentException ex)
            {
                return ex.Message;
            }
        }
    }
}
