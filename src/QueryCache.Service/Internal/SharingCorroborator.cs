using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pgvector;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <summary>
/// Corroborated sharing (<see cref="CacheConfig.ShareAfterAskers"/>), after each store of a known asker: the entries other
/// users stored that still wait for askers and would have answered this question (threshold, lexical guard, learned
/// decision) count this asker, once, where the answer this asker's own pipeline run produced agrees — the same text, or,
/// the guard finding no contrast between the two answers (numbers, negation, the tenant's terms), embeddings at least as
/// similar as the tenant's threshold (with no embedding generator registered, the same text only). An answer steered for
/// one user (an injected instruction, say) is not what an honest run answers, so it finds no agreement and stays private
/// to whoever planted it. Like a store, it never fails the caller: a failure is logged and the count dropped.
/// </summary>
internal sealed class SharingCorroborator(CacheDataSource database, FailOpenExecutor executor, QueryEmbedder embedder, DecisionStore decisions,
    QueryCacheMetrics metrics, IOptions<QueryCacheOptions> options, ILogger<SharingCorroborator> logger)
{
    private readonly QueryCacheOptions _options = options.Value;

    /// <summary>
    /// After <paramref name="stored"/> was stored as asked by <paramref name="asker"/> (null: nobody to count), with its
    /// question's <paramref name="hash"/> and <paramref name="embedding"/>.
    /// </summary>
    public async Task CorroborateAsync(CacheEntry stored, string? asker, byte[] hash, Vector embedding, CancellationToken cancellationToken)
    {
        if (asker is null)
        {
            return;
        }

        var tenantId = stored.Scope.TenantId;
        try
        {
            var waiting = await executor.ExecuteAsync(CacheOperation.Store, tenantId, async ct =>
            {
                using var connection = database.Primary.CreateConnection();
                return (await connection.QueryAsync<Waiting>(new CommandDefinition(CacheStatements.PendingCandidates, new
                {
                    Embedding = embedding,
                    TenantId = tenantId,
                    UserId = asker,
                    Model = _options.EmbeddingModel,
                    Hash = hash,
                    K = _options.DecisionCandidates,
                }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            }, [], cancellationToken).ConfigureAwait(false);
            if (waiting.Count == 0)
            {
                return;
            }

            var learned = await decisions.ForTenantAsync(tenantId, cancellationToken).ConfigureAwait(false);
            var asked = QuestionText.Parse(stored.QueryText);
            var answering = waiting.Where(w => WouldAnswer(asked, w, learned)).ToList();
            foreach (var entry in await AgreeingAsync(stored.Answer, answering, cancellationToken).ConfigureAwait(false))
            {
                var shared = await executor.ExecuteAsync(CacheOperation.Store, tenantId, async ct =>
                {
                    using var connection = database.Primary.CreateConnection();
                    return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.Corroborate,
                        new { TenantId = tenantId, entry.EntryId, UserId = asker }, cancellationToken: ct)).ConfigureAwait(false);
                }, false, cancellationToken).ConfigureAwait(false);
                metrics.Sharing(shared ? "corroborated" : "counted");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.Error(CacheOperation.Store);
            Log.Failed(logger, ex, CacheOperation.Store, tenantId);
        }
    }

    /// <summary>Whether the waiting entry would have answered the question, as a lookup decides (the verifier aside).</summary>
    /// <remarks>The tenant's threshold applies under a learned decision too: no per-call threshold reaches a store.</remarks>
    private static bool WouldAnswer(QuestionText asked, Waiting candidate, DecisionStore.InForce? learned)
    {
        var cached = QuestionText.Parse(candidate.QueryText);
        return learned is null
            ? candidate.Similarity >= candidate.Threshold
              && (!candidate.GuardEnabled || LexicalGuard.FirstReason(LexicalGuard.Signals(asked, cached, candidate.ContrastTerms)) is null)
            : learned.Decision.Judge(asked, cached, candidate.Similarity, candidate.GuardEnabled, candidate.ContrastTerms, candidate.Threshold).Refusal is null;
    }

    private async Task<List<Waiting>> AgreeingAsync(string answer, List<Waiting> answering, CancellationToken cancellationToken)
    {
        var agreeing = answering.Where(w => QueryText.Normalize(w.Answer) == QueryText.Normalize(answer)).ToList();
        var others = answering.Except(agreeing)
            .Where(w => !w.GuardEnabled || LexicalGuard.Check(answer, w.Answer, w.ContrastTerms) is null)
            .ToList();
        if (others.Count == 0 || !embedder.HasGenerator)
        {
            return agreeing;
        }

        var vectors = await embedder.EmbedAsync(others.Select(w => w.Answer).Prepend(answer).Select(Embeddable).ToList(), cancellationToken)
            .ConfigureAwait(false);
        agreeing.AddRange(others.Where((w, i) =>
            System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(vectors[0].Span, vectors[i + 1].Span) >= w.Threshold));
        return agreeing;
    }

    /// <summary>Answers can be long; their opening, as long as a question may be, is what is compared.</summary>
    private static string Embeddable(string text) => text.Length <= QueryCacheSchema.MaxQueryTextLength ? text : text[..QueryCacheSchema.MaxQueryTextLength];

    /// <summary>A waiting entry of another user, with the tenant's settings in force.</summary>
    private sealed record Waiting
    {
        public long EntryId { get; init; }
        public string QueryText { get; init; } = "";
        public string Answer { get; init; } = "";
        public double Similarity { get; init; }
        public double Threshold { get; init; }
        public bool GuardEnabled { get; init; }
        public string[] ContrastTerms { get; init; } = [];
    }
}
