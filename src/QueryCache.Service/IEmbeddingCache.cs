namespace QueryCache;

/// <summary>
/// The cache of embedding vectors (<c>askwealth.query_cache_text_embeddings</c>), per model and text (trimmed, white
/// space collapsed, Unicode NFC; case kept): what <c>UseQueryCacheEmbeddings()</c> keeps its vectors in. A batch is one
/// round trip either way; a read that fails is a miss for the batch, a write that fails is dropped (fail-open).
/// </summary>
public interface IEmbeddingCache
{
    /// <summary>The vectors cached for <paramref name="texts"/> under <paramref name="model"/>, in order; null where none is.</summary>
    /// <param name="model">The model (and dimension) the vectors are kept under.</param>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<ReadOnlyMemory<float>?>> GetAsync(string model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps <paramref name="vectors"/> for <paramref name="texts"/> for <paramref name="timeToLive"/>. A batch with a vector
    /// pgvector cannot store or compare (no dimensions, more than 16,000, NaN, infinite, all zero) is not kept: the
    /// returned reason says why; null when kept (or dropped after a database failure, with a warning).
    /// </summary>
    /// <param name="model">The model (and dimension) the vectors are kept under.</param>
    /// <param name="texts">The texts.</param>
    /// <param name="vectors">Their vectors, in the same order.</param>
    /// <param name="timeToLive">How long they are kept.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    Task<string?> SetAsync(string model, IReadOnlyList<string> texts, IReadOnlyList<ReadOnlyMemory<float>> vectors, TimeSpan timeToLive,
        CancellationToken cancellationToken = default);
}
