using Dapper;
using Microsoft.Extensions.Logging;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <summary>
/// Counts an asker for the waiting entries of other users that would have answered their question, but only where the
/// answer their own pipeline run produced agrees: the same text, or — the lexical guard finding no contrast between the
/// two answers (numbers, negation, the tenant's terms) — embeddings at least as similar as the tenant's threshold (with
/// no embedding generator registered, the same text only). An answer steered for one user (an injected instruction, say)
/// is not what an honest run answers, so it finds no agreement and stays private to the user who planted it. Like a
/// store, it never fails the caller: a failure is logged and the count dropped.
/// </summary>
internal sealed class SharingCorroborator(CacheDataSource database, FailOpenExecutor executor, QueryEmbedder embedder, QueryCacheMetrics metrics,
    ILogger<SharingCorroborator> logger)
{
    /// <summary>Counts the asker of <paramref name="stored"/> for each of <paramref name="awaiting"/> whose answer agrees with it.</summary>
    public async Task CorroborateAsync(CacheEntry stored, IReadOnlyList<AwaitingEntry> awaiting, CancellationToken cancellationToken)
    {
        if (stored.AskedByUserId is not { } asker || awaiting.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var entry in await AgreeingAsync(stored.Answer, awaiting, cancellationToken).ConfigureAwait(false))
            {
                var shared = await executor.ExecuteAsync(CacheOperation.Store, stored.Scope.TenantId, async ct =>
                {
                    using var connection = database.Primary.CreateConnection();
                    return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.Corroborate,
                        new { stored.Scope.TenantId, entry.EntryId, UserId = asker }, cancellationToken: ct)).ConfigureAwait(false);
                }, false, cancellationToken).ConfigureAwait(false);
                metrics.Sharing(shared ? "corroborated" : "counted");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.Error(CacheOperation.Store);
            Log.Failed(logger, ex, CacheOperation.Store, stored.Scope.TenantId);
        }
    }

    private async Task<List<AwaitingEntry>> AgreeingAsync(string answer, IReadOnlyList<AwaitingEntry> awaiting, CancellationToken cancellationToken)
    {
        var agreeing = awaiting.Where(a => QueryText.Normalize(a.Answer) == QueryText.Normalize(answer)).ToList();
        var others = awaiting.Except(agreeing)
            .Where(a => !a.GuardEnabled || LexicalGuard.Check(answer, a.Answer, a.ContrastTerms) is null)
            .ToList();
        if (others.Count == 0 || !embedder.HasGenerator)
        {
            return agreeing;
        }

        var vectors = await embedder.EmbedAsync(others.Select(a => a.Answer).Prepend(answer).Select(Embeddable).ToList(), cancellationToken)
            .ConfigureAwait(false);
        agreeing.AddRange(others.Where((a, i) =>
            System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(vectors[0].Span, vectors[i + 1].Span) >= a.Threshold));
        return agreeing;
    }

    /// <summary>Answers can be long; their opening, as long as a question may be, is what is compared.</summary>
    private static string Embeddable(string text) => text.Length <= QueryCacheSchema.MaxQueryTextLength ? text : text[..QueryCacheSchema.MaxQueryTextLength];
}
