using Dapper;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <summary>
/// Counts an asker for the waiting entries of other users that would have answered their question, but only where the
/// answer their own pipeline run produced agrees: the same text, or — the lexical guard finding no contrast between the
/// two answers (numbers, negation, the tenant's terms) — embeddings at least as similar as the tenant's threshold. An
/// answer steered for one user (an injected instruction, say) is not what an honest run answers, so it finds no
/// agreement and stays private to the user who planted it.
/// </summary>
internal sealed class SharingCorroborator(CacheDataSource database, FailOpenExecutor executor, QueryEmbedder embedder, QueryCacheMetrics metrics)
{
    /// <summary>Counts the asker of <paramref name="stored"/> for each of <paramref name="awaiting"/> whose answer agrees with it.</summary>
    public async Task CorroborateAsync(CacheEntry stored, IReadOnlyList<AwaitingEntry> awaiting, CancellationToken cancellationToken)
    {
        if (stored.AskedByUserId is not { } asker || awaiting.Count == 0)
        {
            return;
        }

        var answer = stored.Answer;

        var texts = awaiting.Select(a => a.Answer).Prepend(answer).Select(Embeddable).ToList();
        var vectors = await embedder.EmbedAsync(texts, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < awaiting.Count; i++)
        {
            var entry = awaiting[i];
            if (!Agree(answer, vectors[0], entry, vectors[i + 1]))
            {
                continue;
            }

            var shared = await executor.ExecuteAsync(CacheOperation.Store, stored.Scope.TenantId, async ct =>
            {
                using var connection = database.Primary.CreateConnection();
                return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.Corroborate,
                    new { stored.Scope.TenantId, entry.EntryId, UserId = asker }, cancellationToken: ct)).ConfigureAwait(false);
            }, false, cancellationToken).ConfigureAwait(false);
            metrics.Sharing(shared ? "corroborated" : "counted");
        }
    }

    private static bool Agree(string answer, ReadOnlyMemory<float> vector, AwaitingEntry entry, ReadOnlyMemory<float> entryVector) =>
        QueryText.Normalize(answer) == QueryText.Normalize(entry.Answer)
        || ((!entry.GuardEnabled || LexicalGuard.Check(answer, entry.Answer, entry.ContrastTerms) is null)
            && System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(vector.Span, entryVector.Span) >= entry.Threshold);

    /// <summary>Answers can be long; their opening, as long as a question may be, is what is compared.</summary>
    private static string Embeddable(string text) => text.Length <= QueryCacheSchema.MaxQueryTextLength ? text : text[..QueryCacheSchema.MaxQueryTextLength];
}
