using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using QueryCache;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the in-process sentence model.</summary>
public static class LocalEmbeddingsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LocalEmbeddingGenerator"/> (all-MiniLM-L6-v2, 384 dimensions, offline) as the
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> unless one is registered already, and makes it
    /// the cache's model: when <see cref="QueryCacheOptions.EmbeddingModel"/> is not set, entries are stored under
    /// <see cref="LocalEmbeddingGenerator.ModelName"/> with 384 dimensions (migrate with <c>QUERYCACHE_DIMENSIONS=384</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Threads and batch size; the defaults suit most hosts.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddQueryCacheLocalEmbeddings(this IServiceCollection services, Action<LocalEmbeddingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LocalEmbeddingOptions>().Configure(configure ?? (_ => { })).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp =>
            new LocalEmbeddingGenerator(sp.GetRequiredService<IOptions<LocalEmbeddingOptions>>().Value));
        services.PostConfigure<QueryCacheOptions>(options =>
        {
            // An embedding costs only CPU here: embed while the exact-match round trip runs.
            options.EmbedDuringExactMatch ??= true;
            if (string.IsNullOrWhiteSpace(options.EmbeddingModel))
            {
                options.EmbeddingModel = LocalEmbeddingGenerator.ModelName;
                options.Dimensions = LocalEmbeddingGenerator.Dimensions;
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryCacheOptions>, LocalModelDimensionsValidator>());
        return services;
    }

    private sealed class LocalModelDimensionsValidator : IValidateOptions<QueryCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, QueryCacheOptions options) =>
            options.EmbeddingModel == LocalEmbeddingGenerator.ModelName && options.Dimensions != LocalEmbeddingGenerator.Dimensions
                ? ValidateOptionsResult.Fail(
                    $"{LocalEmbeddingGenerator.ModelName} produces {LocalEmbeddingGenerator.Dimensions} dimensions and QueryCacheOptions.Dimensions is {options.Dimensions}; " +
                    $"set it to {LocalEmbeddingGenerator.Dimensions} (and migrate the database with QUERYCACHE_DIMENSIONS={LocalEmbeddingGenerator.Dimensions}).")
                : ValidateOptionsResult.Success;
    }
}
