using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueryCache;
using QueryCache.AI;

#pragma warning disable IDE0130 // Beside MEAI's own middleware, so that it is found where UseDistributedCache is.
namespace Microsoft.Extensions.AI;
#pragma warning restore IDE0130

/// <summary>QueryCache's Microsoft.Extensions.AI middleware: a semantic cache for chat clients, a PostgreSQL cache for embeddings.</summary>
public static class QueryCacheAIExtensions
{
    /// <summary>
    /// Answers requests that carry a <see cref="CacheScope"/> (<see cref="WithCacheScope"/>) from the semantic cache
    /// when a close enough question of that scope was answered before, and stores the inner client's answers. Needs
    /// <c>AddQueryCache</c> in the builder's services.
    /// </summary>
    /// <param name="builder">The chat client pipeline.</param>
    /// <param name="configure">Changes the <see cref="SemanticCacheOptions"/>.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseSemanticCache(this ChatClientBuilder builder, Action<SemanticCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SemanticCacheOptions();
        configure?.Invoke(options);
        ArgumentNullException.ThrowIfNull(options.QuestionSelector, "SemanticCacheOptions.QuestionSelector");
        if (options.SimilarityThreshold is < 0 or > 1 || options.SimilarityThreshold is double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.SimilarityThreshold,
                "SemanticCacheOptions.SimilarityThreshold is a cosine similarity from 0 to 1 (for example 0.85), or null for the tenant's.");
        }

        if (options.TimeToLive <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.TimeToLive,
                "SemanticCacheOptions.TimeToLive must be greater than zero, or null for the cache's default.");
        }

        return builder.Use((inner, services) => new SemanticCachingChatClient(inner, Required<IQueryCacheService>(services, nameof(UseSemanticCache)),
            new AIMetrics(services.GetService<System.Diagnostics.Metrics.IMeterFactory>()), options, Logger<SemanticCachingChatClient>(services)));
    }

    /// <summary>
    /// Caches the generator's vectors in PostgreSQL per model and normalized text (30 days by default): a batch is looked
    /// up in one round trip and only its misses reach the generator. Needs <c>AddQueryCache</c> in the builder's services.
    /// </summary>
    /// <param name="builder">The embedding generator pipeline.</param>
    /// <param name="configure">Changes the <see cref="QueryCacheEmbeddingOptions"/>.</param>
    /// <returns>The builder.</returns>
    public static EmbeddingGeneratorBuilder<string, Embedding<float>> UseQueryCacheEmbeddings(this EmbeddingGeneratorBuilder<string, Embedding<float>> builder,
        Action<QueryCacheEmbeddingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new QueryCacheEmbeddingOptions();
        configure?.Invoke(options);
        if (options.TimeToLive <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.TimeToLive,
                "QueryCacheEmbeddingOptions.TimeToLive must be greater than zero (the default is 30 days).");
        }

        if (options.ModelId is { } model && string.IsNullOrWhiteSpace(model))
        {
            throw new ArgumentException("QueryCacheEmbeddingOptions.ModelId is blank; set the model's name, or leave it null to take it from the generator.", nameof(configure));
        }

        return builder.Use((inner, services) => new QueryCacheEmbeddingGenerator(inner, Required<IEmbeddingCache>(services, nameof(UseQueryCacheEmbeddings)),
            new AIMetrics(services.GetService<System.Diagnostics.Metrics.IMeterFactory>()), options,
            Required<IOptions<QueryCacheOptions>>(services, nameof(UseQueryCacheEmbeddings)).Value.EmbeddingModel, Logger<QueryCacheEmbeddingGenerator>(services)));
    }

    /// <summary>Puts the cache scope of a request in its options; a request without one is not cached.</summary>
    /// <param name="options">The request's options.</param>
    /// <param name="scope">The tenant (and user) the request is for.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static ChatOptions WithCacheScope(this ChatOptions options, CacheScope scope)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope.TenantId, "scope.TenantId");
        (options.AdditionalProperties ??= [])[SemanticCacheProperties.Scope] = scope;
        return options;
    }

    /// <summary>
    /// Names the user asking, for a scope shared within the tenant: the lookup also sees their own entries, the answer is
    /// stored as asked by them (erasing them removes it), and under <see cref="CacheConfig.ShareAfterAskers"/> it counts
    /// them as a corroborating asker.
    /// </summary>
    /// <param name="options">The request's options.</param>
    /// <param name="userId">The user asking.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static ChatOptions WithCacheAsker(this ChatOptions options, string userId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        (options.AdditionalProperties ??= [])[SemanticCacheProperties.AskedBy] = userId;
        return options;
    }

    /// <summary>The user <see cref="WithCacheAsker"/> put in the options, or null.</summary>
    /// <param name="options">The request's options.</param>
    /// <returns>The user id, or null.</returns>
    public static string? GetCacheAsker(this ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(SemanticCacheProperties.AskedBy, out var value) == true ? value as string : null;

    /// <summary>The cache scope <see cref="WithCacheScope"/> put in the options, or null.</summary>
    /// <param name="options">The request's options.</param>
    /// <returns>The scope, or null.</returns>
    public static CacheScope? GetCacheScope(this ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(SemanticCacheProperties.Scope, out var value) == true ? value as CacheScope : null;

    private static T Required<T>(IServiceProvider services, string middleware)
        where T : notnull =>
        services.GetService<T>() ?? throw new InvalidOperationException(
            $"{middleware}() needs QueryCache in the same container: call services.AddQueryCache(...) where the chat client or embedding generator is registered.");

    private static ILogger<T> Logger<T>(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger<T>() ?? NullLogger<T>.Instance;
}
