using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>
/// Embeds the backfill's questions in batches of <see cref="QueryCacheJobOptions.EmbeddingBatchSize"/>. A failed batch is
/// retried question by question; a question that still fails, or whose vector is unusable, is left out (the caller
/// counts it as failed) and the run goes on.
/// </summary>
internal sealed class BackfillEmbedder(QueryEmbedder embedder, IOptions<QueryCacheJobOptions> options, ILogger<BackfillEmbedder> logger)
{
    /// <summary>Fails before any work when no embedding generator is registered.</summary>
    public void EnsureAvailable() => embedder.EnsureGenerator();

    public async Task<List<(T Item, ReadOnlyMemory<float> Embedding)>> EmbedAsync<T>(IReadOnlyList<T> items, Func<T, string> text,
        Func<T, Guid> id, CancellationToken cancellationToken)
    {
        var result = new List<(T, ReadOnlyMemory<float>)>(items.Count);
        foreach (var chunk in items.Chunk(options.Value.EmbeddingBatchSize))
        {
            IReadOnlyList<ReadOnlyMemory<float>>? vectors = null;
            try
            {
                vectors = await embedder.EmbedAsync(chunk.Select(text).ToList(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.EmbeddingBatchFailed(logger, ex, chunk.Length);
            }

            for (var i = 0; i < chunk.Length; i++)
            {
                try
                {
                    result.Add((chunk[i], vectors is null
                        ? await embedder.EmbedAsync(text(chunk[i]), cancellationToken).ConfigureAwait(false)
                        : embedder.Valid(vectors[i])));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.EmbeddingFailed(logger, ex, id(chunk[i]));
                }
            }
        }

        return result;
    }
}
