using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueryCache.Internal;

namespace QueryCache.Correctness;

/// <summary>
/// Decides whether a candidate at or above the threshold is served: the lexical guard first (when the tenant has it on),
/// then, in the grey zone below <see cref="QueryCacheOptions.VerifyBelowSimilarity"/>, the registered verifier, bounded by
/// <see cref="QueryCacheOptions.VerifierTimeout"/> and fail-closed. Each verdict is kept as a label for the learned decision.
/// </summary>
internal sealed class CandidateJudge(IOptions<QueryCacheOptions> options, QueryCacheMetrics metrics, LabelRecorder labels,
    ILogger<CandidateJudge> logger, ICacheHitVerifier? verifier = null)
{
    private readonly QueryCacheOptions _options = options.Value;

    /// <summary>Null to serve the candidate, else why not.</summary>
    public async Task<CacheMissReason?> JudgeAsync(CacheHitCandidate candidate, bool guardEnabled, IReadOnlyList<string> contrastTerms,
        CancellationToken cancellationToken)
    {
        if (guardEnabled && LexicalGuard.Check(candidate.Question, candidate.CachedQuestion, contrastTerms) is { } refusal)
        {
            return refusal;
        }

        if (verifier is null || candidate.Similarity >= _options.VerifyBelowSimilarity)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.VerifierTimeout);
        try
        {
            var accepted = await verifier.VerifyAsync(candidate, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            metrics.Verified(accepted ? "accepted" : "rejected");
            labels.Record(new Label(candidate.Scope.TenantId, candidate.Scope.UserId, candidate.Question, candidate.CachedQuestion,
                candidate.Similarity, accepted, "verifier", candidate.EntryId));
            return accepted ? null : CacheMissReason.VerifierRejected;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var timedOut = timeout.IsCancellationRequested;
            metrics.Verified(timedOut ? "timeout" : "failed");
            Log.VerifierFailed(logger, ex, candidate.Scope.TenantId, timedOut);
            return CacheMissReason.VerifierFailed;
        }
    }
}
