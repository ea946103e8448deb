using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>
/// The write path: validates an entry, asks the admission policy, embeds it when needed, and stores it bounded and
/// fail-open; then the stored answer corroborates other users' waiting entries it agrees with.
/// </summary>
internal sealed class CacheWriter(
    CacheDataSource database,
    FailOpenExecutor executor,
    PendingIndexer indexer,
    QueryEmbedder embedder,
    SharingCorroborator corroborator,
    ICacheAdmissionPolicy admission,
    QueryCacheMetrics metrics,
    IOptions<QueryCacheOptions> options,
    ILogger<CacheWriter> logger)
{
    private readonly QueryCacheOptions _options = options.Value;

    /// <summary>
    /// Stores what a pipeline answered after a miss: with <see cref="QueryCacheOptions.FailOpen"/>, anything that fails
    /// here (the embedding, say; the database is covered by <see cref="AddAsync"/>) drops the entry with a warning, so the
    /// caller still gets the answer it waited for.
    /// </summary>
    public async Task<long> AddAfterMissAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            return await AddAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (_options.FailOpen && ex is not OperationCanceledException && !QueryEmbedder.IsNoGenerator(ex))
        {
            metrics.Error(CacheOperation.Store);
            Log.Failed(logger, ex, CacheOperation.Store, entry.Scope.TenantId);
            return 0;
        }
    }

    /// <summary>The entry's id, or 0 when the admission policy refused it or a database failure dropped it (fail-open).</summary>
    public async Task<long> AddAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Check.Scope(entry.Scope);
        Check.OptionalIdentifier(entry.AskedByUserId, "user id");
        Check.Text(entry.QueryText, "question", QueryCacheSchema.MaxQueryTextLength);
        Check.Text(entry.Answer, "answer", QueryCacheSchema.MaxAnswerLength);
        Check.TimeToLive(entry.TimeToLive);
        if (entry.UserMessageId == Guid.Empty || entry.AssistantMessageId == Guid.Empty)
        {
            throw new ArgumentException("A message id is Guid.Empty; pass the app's message id, or null when there is none.", nameof(entry));
        }

        var decision = admission.Decide(entry.Scope, entry.QueryText, entry.Answer);
        if (!decision.Admitted)
        {
            metrics.Store("refused", decision.Reason ?? "policy");
            Log.StoreRefused(logger, entry.Scope.TenantId, decision.Reason);
            return 0;
        }

        var embedding = entry.Embedding.IsEmpty
            ? await embedder.EmbedAsync(entry.QueryText, cancellationToken).ConfigureAwait(false)
            : Check.Embedding(entry.Embedding, _options.Dimensions);

        var parameters = new
        {
            entry.Scope.TenantId,
            entry.Scope.UserId,
            AskedBy = entry.AskedByUserId ?? entry.Scope.UserId,
            entry.UserMessageId,
            entry.AssistantMessageId,
            entry.QueryText,
            Hash = QueryText.Hash(entry.QueryText),
            entry.Answer,
            Embedding = new Vector(embedding),
            Model = _options.EmbeddingModel,
            TimeToLive = Shorter(entry.TimeToLive, decision.TimeToLive),
            Indexed = !_options.BackgroundIndexing,
            database.SynchronousCommit,
        };

        // Dropped stands for a failure; the insert itself answers no row when the message id belongs to another tenant.
        var stored = await executor.ExecuteAsync(CacheOperation.Store, entry.Scope.TenantId, async ct =>
        {
            using var connection = database.Primary.CreateConnection();
            return await connection.QuerySingleOrDefaultAsync<Stored>(new CommandDefinition(CacheStatements.Insert, parameters, cancellationToken: ct))
                .ConfigureAwait(false);
        }, Stored.Dropped, cancellationToken).ConfigureAwait(false);

        switch (stored?.Id)
        {
            case -1:
                metrics.Store("dropped");
                return 0;
            case null:
                throw new InvalidOperationException(
                    $"User message {entry.UserMessageId} is already cached for another tenant; a message id belongs to one tenant. Check the scope passed with it.");
            case var id:
                metrics.Store("stored");
                if (stored.Pending)
                {
                    metrics.Sharing("pending");
                }

                await corroborator.CorroborateAsync(entry, parameters.AskedBy, parameters.Hash, parameters.Embedding, cancellationToken).ConfigureAwait(false);

                if (_options.BackgroundIndexing)
                {
                    indexer.Signal();
                }

                Log.Stored(logger, id.Value, entry.Scope.TenantId);
                return id.Value;
        }
    }

    /// <summary>The stored entry, and whether it waits for askers (corroborated sharing).</summary>
    private sealed record Stored(long Id, bool Pending)
    {
        public static readonly Stored Dropped = new(-1, false);
    }

    private static TimeSpan? Shorter(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;
}
