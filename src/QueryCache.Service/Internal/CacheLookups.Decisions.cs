using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <content>The decision on the candidates a lookup found: threshold, guard and verifier, or the learned decision.</content>
internal sealed partial class CacheLookups
{
    /// <summary>
    /// The learned decision: the first candidate, nearest first, that the guard lets through (where the tenant has it on)
    /// and whose estimated probability of being right reaches the fit's cutoff; a per-call threshold still applies.
    /// </summary>
    private static CacheLookupResult DecideLearned(CacheQuery query, List<Nearest> candidates, LearnedDecision decision, CacheLookupResult result)
    {
        if (NothingToJudge(candidates.FirstOrDefault()) is { } nothing)
        {
            return result with { MissReason = nothing };
        }

        var asked = QuestionText.Parse(query.Question!);
        CacheMissReason? firstRefusal = null;
        double? nearestProbability = null;
        foreach (var candidate in candidates.Where(c => c.EntryId is not null))
        {
            var (refusal, probability) = decision.Judge(asked, QuestionText.Parse(candidate.QueryText!), candidate.Similarity!.Value,
                candidate.GuardEnabled, candidate.ContrastTerms, query.SimilarityThreshold);
            nearestProbability ??= probability;
            if (refusal is null)
            {
                return result with { Hit = candidate.ToHit(), RightProbability = probability };
            }

            firstRefusal ??= refusal;
        }

        return result with { MissReason = firstRefusal, RightProbability = nearestProbability };
    }

    private async Task<CacheLookupResult> DecideAsync(CacheQuery query, Nearest? nearest, double? threshold, CacheLookupResult result,
        CancellationToken cancellationToken)
    {
        var reason = NothingToJudge(nearest) ?? (nearest!.Similarity < threshold ? CacheMissReason.BelowThreshold : null);
        if (reason is not null)
        {
            return result with { MissReason = reason };
        }

        var hit = nearest!.ToHit();
        if (query.Question is { } question)
        {
            reason = await judge.JudgeAsync(new CacheHitCandidate
            {
                Scope = query.Scope,
                Question = question,
                CachedQuestion = hit.QueryText,
                CachedAnswer = hit.Answer,
                Similarity = hit.Similarity,
                EntryId = hit.EntryId,
            }, nearest.GuardEnabled, nearest.ContrastTerms, cancellationToken).ConfigureAwait(false);
        }

        return reason is null ? result with { Hit = hit } : result with { MissReason = reason };
    }

    /// <summary>Why there is no candidate to judge (no row, the cache disabled, no entry), or null when there is one.</summary>
    private static CacheMissReason? NothingToJudge(Nearest? nearest) => nearest switch
    {
        null => CacheMissReason.Unavailable,
        { Enabled: false } => CacheMissReason.Disabled,
        { EntryId: null } => CacheMissReason.NoEntry,
        _ => null,
    };
}
