using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>
/// Audits: a share (<see cref="QueryCacheOptions.AuditShare"/>) of would-be hits runs the pipeline anyway; the caller
/// gets the fresh answer, and in the background the cached answer is judged against it — by the registered verifier,
/// else by the similarity of the two answers' embeddings — and the verdict is kept as a label. Hits are audited at
/// random, whatever the decision thought of them, so the labels are not biased toward what is served.
/// </summary>
internal sealed class AuditRunner(LabelRecorder labels, QueryEmbedder embedder, IOptions<QueryCacheOptions> options, ILogger<AuditRunner> logger,
    ICacheHitVerifier? verifier = null)
{
    /// <summary>Without a verifier, two answers at least this similar say the same.</summary>
    public const double SameAnswerSimilarity = 0.9;

    private readonly QueryCacheOptions _options = options.Value;

    public bool ShouldAudit() => _options.AuditShare > 0 && Random.Shared.NextDouble() < _options.AuditShare;

    /// <summary>Runs the pipeline for <paramref name="query"/> instead of serving <paramref name="hit"/>, and judges the hit in the background.</summary>
    public async Task<T> RunAsync<T>(CacheQuery query, CacheHit hit, Func<CancellationToken, Task<T>> pipeline, Func<T, string?> answerOf,
        CancellationToken cancellationToken)
    {
        var value = await pipeline(cancellationToken).ConfigureAwait(false);
        if (answerOf(value) is { } fresh && !string.IsNullOrWhiteSpace(fresh))
        {
            _ = Task.Run(() => JudgeAsync(query, hit, fresh), CancellationToken.None);
        }

        return value;
    }

    private async Task JudgeAsync(CacheQuery query, CacheHit hit, string fresh)
    {
        try
        {
            var right = verifier is null ? await SameAnswerAsync(hit.Answer, fresh).ConfigureAwait(false) : await VerifyAsync(query, hit, fresh).ConfigureAwait(false);
            labels.Record(new Label(query.Scope.TenantId, query.Scope.UserId, query.Question!, hit.QueryText, hit.Similarity, right, "audit", hit.EntryId));
        }
        catch (Exception ex)
        {
            Log.AuditFailed(logger, ex, query.Scope.TenantId);
        }
    }

    private async Task<bool> VerifyAsync(CacheQuery query, CacheHit hit, string fresh)
    {
        using var timeout = new CancellationTokenSource(_options.VerifierTimeout);
        return await verifier!.VerifyAsync(new CacheHitCandidate
        {
            Scope = query.Scope,
            Question = query.Question!,
            CachedQuestion = hit.QueryText,
            CachedAnswer = hit.Answer,
            Similarity = hit.Similarity,
            EntryId = hit.EntryId,
            FreshAnswer = fresh,
        }, timeout.Token).ConfigureAwait(false);
    }

    private async Task<bool> SameAnswerAsync(string cached, string fresh)
    {
        var vectors = await embedder.EmbedAsync([cached, fresh], CancellationToken.None).ConfigureAwait(false);
        return TensorPrimitives.CosineSimilarity(vectors[0].Span, vectors[1].Span) >= SameAnswerSimilarity;
    }
}
