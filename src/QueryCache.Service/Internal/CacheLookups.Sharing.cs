using Dapper;
using Pgvector;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <content>
/// Corroborated sharing (<see cref="CacheConfig.ShareAfterAskers"/>): on a miss of a known asker, the entries other users
/// stored that still wait for askers are judged like candidates (threshold, guard, learned decision). Those that would
/// have answered are not served: they go with the miss to <see cref="SharingCorroborator"/>, which counts this asker
/// for each whose answer this asker's own pipeline run agrees with.
/// </content>
internal sealed partial class CacheLookups
{
    /// <summary>
    /// A lookup by a known asker in a shared scope sees that user's own entries (those still waiting included), as a
    /// lookup in their private scope does; stores keep the shared scope.
    /// </summary>
    public static CacheQuery AsAsker(CacheQuery query) =>
        query.AskedByUserId is { } asker && query.Scope.UserId is null ? query with { Scope = query.Scope with { UserId = asker } } : query;

    private async Task<CacheLookupResult> FindAwaitingAsync(CacheQuery query, string asker, ReadOnlyMemory<float> vector,
        DecisionStore.InForce? learned, CacheLookupResult missed, bool primaryOnly, CancellationToken cancellationToken)
    {
        var pending = await ReadAsync(query.Scope, primaryOnly, async (connection, token) => (await connection.QueryAsync<Nearest>(
            new CommandDefinition(CacheStatements.PendingCandidates, new
            {
                Embedding = new Vector(vector),
                query.Scope.TenantId,
                UserId = asker,
                Model = _options.EmbeddingModel,
                Hash = QueryText.Hash(query.Question!),
                K = _options.DecisionCandidates,
            }, cancellationToken: token)).ConfigureAwait(false)).ToList(), [], cancellationToken).ConfigureAwait(false);
        var asked = QuestionText.Parse(query.Question!);
        var answering = pending
            .Where(c => c.EntryId is not null && WouldAnswer(asked, c, query.SimilarityThreshold ?? c.Threshold, learned))
            .Select(c => new AwaitingEntry(c.EntryId!.Value, c.Answer!, c.Threshold, c.GuardEnabled, c.ContrastTerms))
            .ToList();
        return answering.Count == 0 ? missed : missed with { MissReason = CacheMissReason.AwaitingCorroboration, Awaiting = answering };
    }

    private static bool WouldAnswer(QuestionText asked, Nearest candidate, double threshold, DecisionStore.InForce? learned)
    {
        if (candidate.Similarity < threshold)
        {
            return false;
        }

        var cached = QuestionText.Parse(candidate.QueryText!);
        var signals = LexicalGuard.Signals(asked, cached, candidate.ContrastTerms);
        return (!candidate.GuardEnabled || LexicalGuard.FirstReason(signals) is null)
               && (learned is null
                   || learned.Decision.Model.Probability(DecisionFeatures.Of(asked, cached, candidate.Similarity!.Value, signals)) >= learned.Decision.Cutoff);
    }
}

/// <summary>An entry another user stored that waits for askers and would have answered this question.</summary>
internal sealed record AwaitingEntry(long EntryId, string Answer, double Threshold, bool GuardEnabled, IReadOnlyList<string> ContrastTerms);
