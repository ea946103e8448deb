namespace QueryCache;

/// <summary>Options of the embedding cache that <c>UseQueryCacheEmbeddings()</c> puts in front of an embedding generator.</summary>
public sealed class QueryCacheEmbeddingOptions
{
    /// <summary>How long a cached vector is served; the cleanup job deletes it after that. Default 30 days.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The model the vectors are cached under. Default: the model of the request's <c>EmbeddingGenerationOptions</c>,
    /// else the inner generator's <c>EmbeddingGeneratorMetadata.DefaultModelId</c>, else the cache's
    /// <see cref="QueryCacheOptions.EmbeddingModel"/>. Set it when a generator that reports no model is not the cache's
    /// own, so that two models never share vectors.
    /// </summary>
    public string? ModelId { get; set; }
}
