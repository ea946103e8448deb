using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;
using QueryCache.Internal;
using QueryCache.Jobs;
using static QueryCache.Data.QueryCacheSchema;

namespace QueryCache;

/// <summary>
/// The semantic query cache over PostgreSQL + pgvector. Thread-safe; register it with <c>AddQueryCache</c>.
/// Lookups and stores are fail-open (see <see cref="QueryCacheOptions.FailOpen"/>); invalidation, stats and config
/// changes report database errors to the caller. Connections are created closed: Dapper opens and closes them
/// around each command, so a connection returns to the pool as soon as its command completes.
/// </summary>
public sealed class QueryCacheService : IQueryCacheService, IAsyncDisposable
{
    private const string HitColumns = """
        entry_id AS "EntryId", query_text AS "QueryText", answer AS "Answer", similarity AS "Similarity",
        user_message_id AS "UserMessageId", assistant_message_id AS "AssistantMessageId"
        """;

    private const string LookupSql =
        $"SELECT {HitColumns} FROM {Schema}.{LookupFunction}(@Embedding, @TenantId, @UserId, @Model, @Threshold, @RecordHit)";

    private const string LookupExactSql =
        $"SELECT {HitColumns} FROM {Schema}.{LookupExactFunction}(@Hash, @TenantId, @UserId, @Model, @RecordHit)";

    // A re-added user message replaces its entry, but only within the same tenant: a message id never moves an entry across tenants.
    private const string InsertSql = $"""
        INSERT INTO {Schema}.{EmbeddingsTable} AS e
            (tenant_id, user_id, asked_by, user_message_id, assistant_message_id, query_text, query_hash, answer, embedding, embedding_model, expires_at)
        SELECT @TenantId, @UserId, @AskedBy, @UserMessageId, @AssistantMessageId, @QueryText, @Hash, @Answer, @Embedding, @Model,
               now() + coalesce(@TimeToLive, c.default_ttl)
        FROM {Schema}.query_cache_effective_config(@TenantId) c
        ON CONFLICT (user_message_id, embedding_model) DO UPDATE
            SET user_id = excluded.user_id, asked_by = excluded.asked_by, assistant_message_id = excluded.assistant_message_id,
                query_text = excluded.query_text, query_hash = excluded.query_hash, answer = excluded.answer,
                embedding = excluded.embedding, expires_at = excluded.expires_at, created_at = now()
            WHERE e.tenant_id = excluded.tenant_id
        RETURNING e.id
        """;

    // Erasure: the user's private entries and the shared ones made from their questions, plus a tombstone so a later
    // backfill does not cache their earlier questions again while the app still holds the messages.
    private static readonly string EraseUserSql = $"""
        WITH tombstone AS (
            INSERT INTO {Schema}.{ErasuresTable} (tenant_id, user_id, erased_at) VALUES (@TenantId, @UserId, now())
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET erased_at = now())
        {DeleteInIdOrder("tenant_id = @TenantId AND (user_id = @UserId OR asked_by = @UserId)")}
        """;

    private const string StatsSql = $"""
        SELECT total_entries AS "TotalEntries", total_hits AS "TotalHits", expired_entries AS "ExpiredEntries",
               hit_entries AS "HitEntries", tenant_count AS "TenantCount", oldest_entry_at AS "OldestEntryAt",
               newest_entry_at AS "NewestEntryAt", last_hit_at AS "LastHitAt"
        FROM {Schema}.{StatsFunction}(@TenantId)
        """;

    private const string ConfigSql = $"""
        SELECT similarity_threshold AS "SimilarityThreshold", cache_enabled AS "CacheEnabled",
               max_cache_entries AS "MaxCacheEntries", default_ttl AS "DefaultTimeToLive"
        FROM {Schema}.query_cache_effective_config(@TenantId)
        """;

    private const string UpdateGlobalConfigSql = $"""
        UPDATE {Schema}.{ConfigTable}
        SET similarity_threshold = coalesce(@SimilarityThreshold, similarity_threshold),
            cache_enabled = coalesce(@CacheEnabled, cache_enabled),
            max_cache_entries = coalesce(@MaxCacheEntries, max_cache_entries),
            default_ttl = coalesce(@DefaultTimeToLive, default_ttl),
            updated_at = now()
        WHERE tenant_id IS NULL
        """;

    private const string UpsertTenantConfigSql = $"""
        INSERT INTO {Schema}.{ConfigTable} AS c (tenant_id, similarity_threshold, cache_enabled, max_cache_entries, default_ttl)
        VALUES (@TenantId, @SimilarityThreshold, @CacheEnabled, @MaxCacheEntries, @DefaultTimeToLive)
        ON CONFLICT (tenant_id) DO UPDATE
            SET similarity_threshold = coalesce(excluded.similarity_threshold, c.similarity_threshold),
                cache_enabled = coalesce(excluded.cache_enabled, c.cache_enabled),
                max_cache_entries = coalesce(excluded.max_cache_entries, c.max_cache_entries),
                default_ttl = coalesce(excluded.default_ttl, c.default_ttl),
                updated_at = now()
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly QueryCacheOptions _options;
    private readonly QueryCacheMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _embeddingGenerator;
    private readonly QueryCacheMaintenance _maintenance;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<CachedAnswer>>> _inFlight = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, int> _pendingHits = new();
    private readonly ITimer? _hitFlushTimer;
    private readonly SemaphoreSlim _flushing = new(1, 1);

    // One statement over arrays sorted by id: instances flushing the same entries lock them in the same order.
    private const string FlushHitsSql =
        $"SELECT count({Schema}.{RecordHitFunction}(h.id, h.hits)) FROM unnest(@Ids, @Hits) AS h(id, hits)";
    private long _lookupHits;
    private long _lookupMisses;

    internal QueryCacheService(
        QueryCacheDataSource dataSource,
        IOptions<QueryCacheOptions> options,
        QueryCacheMetrics metrics,
        ILogger<QueryCacheService> logger,
        TimeProvider timeProvider,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator,
        QueryCacheMaintenance maintenance)
    {
        _dataSource = dataSource.DataSource;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _embeddingGenerator = embeddingGenerator;
        _maintenance = maintenance;
        if (_options.HitRecording == HitRecordingMode.Batched)
        {
            _hitFlushTimer = timeProvider.CreateTimer(_ => _ = FlushHitsAsync(), null, _options.HitFlushInterval, _options.HitFlushInterval);
        }
    }

    private bool RecordHits => _options.HitRecording == HitRecordingMode.Immediate;

    /// <summary>Writes the batched hit counts now (also done every <see cref="QueryCacheOptions.HitFlushInterval"/> and on dispose).</summary>
    public async Task FlushHitsAsync(CancellationToken cancellationToken = default)
    {
        if (_pendingHits.IsEmpty)
        {
            return;
        }

        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ids = _pendingHits.Keys.Order().ToArray();
            var hits = new int[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                _pendingHits.TryRemove(ids[i], out hits[i]);
            }

            using var connection = _dataSource.CreateConnection();
            await connection.ExecuteAsync(new CommandDefinition(FlushHitsSql, new { Ids = ids, Hits = hits },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsCacheFailure(ex, cancellationToken))
        {
            // Hit counts are statistics: a failed flush drops them rather than fail or grow without bound.
            _metrics.Error("hits");
            Log.HitFlushFailed(_logger, ex);
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Stops the flush timer and writes the last batched hit counts.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_hitFlushTimer is not null)
        {
            await _hitFlushTimer.DisposeAsync().ConfigureAwait(false);
            await FlushHitsAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<CacheHit?> CheckCacheAsync(ReadOnlyMemory<float> embedding, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        Guard.Embedding(embedding.Span, _options.Dimensions, nameof(embedding));
        Guard.Scope(scope, nameof(scope));
        Guard.Threshold(similarityThreshold, nameof(similarityThreshold));
        return LookupAsync("vector", scope, ct => QueryHitAsync(LookupSql, new
        {
            Embedding = new Vector(embedding),
            scope.TenantId,
            scope.UserId,
            Model = _options.EmbeddingModel,
            Threshold = similarityThreshold,
            RecordHit = RecordHits,
        }, ct), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CacheHit?> CheckCacheAsync(string question, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        GuardTextLookup(question, scope, similarityThreshold);
        return (await LookupTextAsync(question, scope, similarityThreshold, default, cancellationToken).ConfigureAwait(false)).Hit;
    }

    /// <inheritdoc />
    public async Task<CachedAnswer> GetOrAddAsync(string question, CacheScope scope, Func<CancellationToken, Task<string>> answerFactory,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answerFactory);
        GuardTextLookup(question, scope, similarityThreshold);
        var (hit, embedding) = await LookupTextAsync(question, scope, similarityThreshold, default, cancellationToken).ConfigureAwait(false);
        if (hit is not null)
        {
            return new CachedAnswer { Answer = hit.Answer, FromCache = true, Hit = hit };
        }

        var key = string.Join('\u001f', scope.TenantId, scope.UserId, Convert.ToHexString(QueryText.Hash(question)));
        var flight = new Lazy<Task<CachedAnswer>>(() =>
            ProduceAndStoreAsync(key, question, embedding, scope, answerFactory, similarityThreshold, cancellationToken));
        return await _inFlight.GetOrAdd(key, flight).Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<CachedAnswer> ProduceAndStoreAsync(string key, string question, ReadOnlyMemory<float> embedding, CacheScope scope,
        Func<CancellationToken, Task<string>> answerFactory, double? similarityThreshold, CancellationToken cancellationToken)
    {
        try
        {
            // A caller whose miss came just before another flight stored the answer finds it here instead of recomputing.
            if ((await LookupTextAsync(question, scope, similarityThreshold, embedding, cancellationToken).ConfigureAwait(false)).Hit is { } hit)
            {
                return new CachedAnswer { Answer = hit.Answer, FromCache = true, Hit = hit };
            }

            var answer = await answerFactory(cancellationToken).ConfigureAwait(false);
            await AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = question, Answer = answer, Embedding = embedding },
                cancellationToken).ConfigureAwait(false);
            return new CachedAnswer { Answer = answer, FromCache = false };
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private static void GuardTextLookup(string question, CacheScope scope, double? similarityThreshold)
    {
        Guard.Text(question, nameof(question), "question", MaxQueryTextLength);
        Guard.Scope(scope, nameof(scope));
        Guard.Threshold(similarityThreshold, nameof(similarityThreshold));
    }

    /// <summary>
    /// The exact-match path, then the vector path with <paramref name="embedding"/> (embedded here when empty). Returns
    /// the embedding it used, so a caller that stores the answer next does not embed the question again.
    /// </summary>
    private async Task<(CacheHit? Hit, ReadOnlyMemory<float> Embedding)> LookupTextAsync(string question, CacheScope scope,
        double? similarityThreshold, ReadOnlyMemory<float> embedding, CancellationToken cancellationToken)
    {
        Log.LookupText(_logger, scope.TenantId, question);
        if (_options.ExactMatch)
        {
            var exact = await LookupAsync("exact", scope, ct => QueryHitAsync(LookupExactSql, new
            {
                Hash = QueryText.Hash(question),
                scope.TenantId,
                scope.UserId,
                Model = _options.EmbeddingModel,
                RecordHit = RecordHits,
            }, ct), cancellationToken).ConfigureAwait(false);
            if (exact is not null)
            {
                return (exact, embedding);
            }
        }

        if (embedding.IsEmpty)
        {
            embedding = await EmbedAsync(question, cancellationToken).ConfigureAwait(false);
        }

        return (await CheckCacheAsync(embedding, scope, similarityThreshold, cancellationToken).ConfigureAwait(false), embedding);
    }

    /// <inheritdoc />
    public async Task<long> AddToCacheAsync(CacheEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Guard.Scope(entry.Scope, "entry.Scope");
        if (entry.AskedByUserId is not null)
        {
            Guard.Identifier(entry.AskedByUserId, "entry.AskedByUserId", "user id");
        }

        Guard.Text(entry.QueryText, "entry.QueryText", "question", MaxQueryTextLength);
        Guard.Text(entry.Answer, "entry.Answer", "answer", MaxAnswerLength);
        if (entry.TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("entry.TimeToLive", ttl,
                "The time to live must be greater than zero; leave it null to use the configured default.");
        }

        if (entry.UserMessageId == Guid.Empty || entry.AssistantMessageId == Guid.Empty)
        {
            throw new ArgumentException("A message id is Guid.Empty; pass the app's message id, or null when there is none.", nameof(entry));
        }

        var embedding = entry.Embedding.IsEmpty
            ? await EmbedAsync(entry.QueryText, cancellationToken).ConfigureAwait(false)
            : entry.Embedding;
        Guard.Embedding(embedding.Span, _options.Dimensions, "entry.Embedding");

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
            entry.TimeToLive,
        };

        long? id;
        try
        {
            id = await WithTimeoutAsync(async ct =>
            {
                using var connection = _dataSource.CreateConnection();
                return await connection.QuerySingleOrDefaultAsync<long?>(
                    new CommandDefinition(InsertSql, parameters, cancellationToken: ct)).ConfigureAwait(false);
            }, _options.StoreTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsCacheFailure(ex, cancellationToken))
        {
            _metrics.Error("store");
            _metrics.Store(stored: false);
            if (ex is TimeoutException)
            {
                Log.StoreTimedOut(_logger, entry.Scope.TenantId, _options.StoreTimeout.TotalMilliseconds);
            }
            else
            {
                Log.StoreFailed(_logger, ex, entry.Scope.TenantId);
            }

            if (!_options.FailOpen)
            {
                throw;
            }

            return 0;
        }

        if (id is null)
        {
            throw new InvalidOperationException(
                $"User message {entry.UserMessageId} is already cached for another tenant; a message id belongs to one tenant. Check the scope passed with it.");
        }

        _metrics.Store(stored: true);
        Log.Stored(_logger, id.Value, entry.Scope.TenantId);
        return id.Value;
    }

    /// <inheritdoc />
    public Task<int> InvalidateTenantAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        Guard.TenantId(tenantId, nameof(tenantId));
        return InvalidateAsync("tenant", DeleteInIdOrder("tenant_id = @TenantId"),
            new { TenantId = tenantId }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> InvalidateUserAsync(string tenantId, string userId, CancellationToken cancellationToken = default)
    {
        Guard.TenantId(tenantId, nameof(tenantId));
        Guard.Identifier(userId, nameof(userId), "user id");
        return InvalidateAsync("user", EraseUserSql, new { TenantId = tenantId, UserId = userId }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> InvalidateMessagesAsync(IEnumerable<Guid> messageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var ids = messageIds.ToArray();
        if (ids.Length == 0 || ids.Contains(Guid.Empty))
        {
            throw new ArgumentException("Pass one or more message ids, none of them Guid.Empty.", nameof(messageIds));
        }

        return InvalidateAsync("messages",
            DeleteInIdOrder("user_message_id = ANY(@Ids) OR assistant_message_id = ANY(@Ids)"),
            new { Ids = ids }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> InvalidateAllAsync(CancellationToken cancellationToken = default) =>
        InvalidateAsync("all", DeleteInIdOrder("true"), null, cancellationToken);

    /// <inheritdoc />
    public async Task<CacheStats> GetCacheStatsAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        if (tenantId is not null)
        {
            Guard.TenantId(tenantId, nameof(tenantId));
        }

        using var connection = _dataSource.CreateConnection();
        var row = await connection.QuerySingleAsync<StatsRow>(
            new CommandDefinition(StatsSql, new { TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new CacheStats
        {
            TenantId = tenantId,
            TotalEntries = row.TotalEntries,
            TotalCacheHits = row.TotalHits,
            ExpiredEntries = row.ExpiredEntries,
            EntriesWithHits = row.HitEntries,
            TenantCount = row.TenantCount,
            OldestEntryAt = ToOffset(row.OldestEntryAt),
            NewestEntryAt = ToOffset(row.NewestEntryAt),
            LastHitAt = ToOffset(row.LastHitAt),
            LookupHits = Interlocked.Read(ref _lookupHits),
            LookupMisses = Interlocked.Read(ref _lookupMisses),
        };
    }

    /// <inheritdoc />
    public async Task<CacheConfig> GetConfigAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        if (tenantId is not null)
        {
            Guard.TenantId(tenantId, nameof(tenantId));
        }

        using var connection = _dataSource.CreateConnection();
        var row = await connection.QuerySingleOrDefaultAsync<ConfigRow>(
            new CommandDefinition(ConfigSql, new { TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"{Schema}.{ConfigTable} has no global row; apply the QueryCache migrations (dotnet ef database update) to restore it.");
        return new CacheConfig
        {
            TenantId = tenantId,
            SimilarityThreshold = row.SimilarityThreshold,
            CacheEnabled = row.CacheEnabled,
            MaxCacheEntries = row.MaxCacheEntries,
            DefaultTimeToLive = row.DefaultTimeToLive,
        };
    }

    /// <inheritdoc />
    public async Task UpdateConfigAsync(CacheConfigUpdate update, string? tenantId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (tenantId is not null)
        {
            Guard.TenantId(tenantId, nameof(tenantId));
        }

        if (update.SimilarityThreshold is { } threshold && !(threshold is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException("update.SimilarityThreshold", threshold,
                "The similarity threshold is a cosine similarity from 0 to 1 (for example 0.85); the config was left unchanged.");
        }

        if (update.MaxCacheEntries is < 1)
        {
            throw new ArgumentOutOfRangeException("update.MaxCacheEntries", update.MaxCacheEntries,
                "The cache must be allowed at least 1 entry; to turn it off set CacheEnabled = false. The config was left unchanged.");
        }

        if (update.DefaultTimeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("update.DefaultTimeToLive", ttl,
                "The default time to live must be greater than zero. The config was left unchanged.");
        }

        using var connection = _dataSource.CreateConnection();
        var sql = tenantId is null ? UpdateGlobalConfigSql : UpsertTenantConfigSql;
        await connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            TenantId = tenantId,
            update.SimilarityThreshold,
            update.CacheEnabled,
            update.MaxCacheEntries,
            update.DefaultTimeToLive,
        }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        Log.ConfigUpdated(_logger, tenantId is null ? "all tenants" : "tenant " + tenantId);
    }

    /// <inheritdoc />
    public async Task ResetConfigAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        Guard.TenantId(tenantId, nameof(tenantId));
        using var connection = _dataSource.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {Schema}.{ConfigTable} WHERE tenant_id = @TenantId",
            new { TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        Log.ConfigUpdated(_logger, "tenant " + tenantId);
    }

    /// <inheritdoc />
    public async Task<int> PopulateFromExistingAsync(CancellationToken cancellationToken = default) =>
        checked((int)(await PopulateFromExistingAsync(new BackfillRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Added);

    /// <inheritdoc />
    public Task<QueryCacheJobStatus> PopulateFromExistingAsync(BackfillRequest request, IProgress<QueryCacheJobStatus>? progress = null,
        CancellationToken cancellationToken = default) =>
        _maintenance.RunBackfillAsync(request, progress, cancellationToken);

    /// <inheritdoc />
    public Task<QueryCacheJobStatus> CleanupAsync(CancellationToken cancellationToken = default) =>
        _maintenance.RunCleanupAsync(cancellationToken);

    private async Task<CacheHit?> LookupAsync(string path, CacheScope scope,
        Func<CancellationToken, Task<CacheHit?>> lookup, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        CacheHit? hit;
        try
        {
            hit = await WithTimeoutAsync(lookup, _options.LookupTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsCacheFailure(ex, cancellationToken))
        {
            _metrics.Error("lookup");
            if (ex is TimeoutException)
            {
                Log.LookupTimedOut(_logger, scope.TenantId, _options.LookupTimeout.TotalMilliseconds);
            }
            else
            {
                Log.LookupFailed(_logger, ex, scope.TenantId);
            }

            if (!_options.FailOpen)
            {
                throw;
            }

            hit = null;
        }

        if (hit is not null && _options.HitRecording == HitRecordingMode.Batched)
        {
            _pendingHits.AddOrUpdate(hit.EntryId, 1, static (_, count) => count + 1);
        }

        var elapsed = _timeProvider.GetElapsedTime(started);
        _metrics.Lookup(hit is not null, elapsed, path);
        Interlocked.Increment(ref hit is null ? ref _lookupMisses : ref _lookupHits);
        Log.Lookup(_logger, hit is null ? "miss" : "hit", scope.TenantId, path, elapsed.TotalMilliseconds, hit?.Similarity);
        return hit;
    }

    private async Task<CacheHit?> QueryHitAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        using var connection = _dataSource.CreateConnection();
        var row = await connection.QuerySingleOrDefaultAsync<HitRow>(
            new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new CacheHit
        {
            EntryId = row.EntryId,
            Answer = row.Answer,
            QueryText = row.QueryText,
            Similarity = row.Similarity,
            UserMessageId = row.UserMessageId,
            AssistantMessageId = row.AssistantMessageId,
        };
    }

    private async Task<int> InvalidateAsync(string scope, string sql, object? parameters, CancellationToken cancellationToken)
    {
        using var connection = _dataSource.CreateConnection();
        var count = await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        _metrics.Invalidated(count, scope);
        Log.Invalidated(_logger, count, scope);
        return count;
    }

    private async Task<ReadOnlyMemory<float>> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        if (_embeddingGenerator is null)
        {
            throw new InvalidOperationException(
                "No IEmbeddingGenerator<string, Embedding<float>> is registered, so the cache cannot embed text itself. " +
                "Register one (Microsoft.Extensions.AI), or pass the embedding you computed.");
        }

        var embedding = await _embeddingGenerator.GenerateAsync(text, cancellationToken: cancellationToken).ConfigureAwait(false);
        return embedding.Vector;
    }

    /// <summary>Runs <paramref name="operation"/> for at most <paramref name="timeout"/>; past it, the caller gets a <see cref="TimeoutException"/> at once while the operation is cancelled in the background.</summary>
    private static async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, Task<T>> operation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var task = operation(timeoutSource.Token);
        try
        {
            return await task.WaitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _ = task.ContinueWith(static t => t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutException($"The cache database did not answer within {timeout.TotalMilliseconds} ms.");
        }
    }

    /// <summary>A database failure or timeout, as opposed to the caller's cancellation or a programming error.</summary>
    private static bool IsCacheFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && exception is TimeoutException or NpgsqlException or System.Net.Sockets.SocketException;

    /// <summary>
    /// A bulk delete that locks its rows in id order, so two running at once wait for each other instead of
    /// deadlocking. <paramref name="filter"/> is one of this class's constant SQL fragments, never user input.
    /// </summary>
    private static string DeleteInIdOrder(string filter) =>
        $"DELETE FROM {Schema}.{EmbeddingsTable} WHERE id IN (SELECT id FROM {Schema}.{EmbeddingsTable} WHERE {filter} ORDER BY id FOR UPDATE)";

    private static DateTimeOffset? ToOffset(DateTime? value) =>
        value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private sealed record HitRow(long EntryId, string QueryText, string Answer, double Similarity, Guid? UserMessageId, Guid? AssistantMessageId);

    private sealed record StatsRow(long TotalEntries, long TotalHits, long ExpiredEntries, long HitEntries, long TenantCount,
        DateTime? OldestEntryAt, DateTime? NewestEntryAt, DateTime? LastHitAt);

    private sealed record ConfigRow(double SimilarityThreshold, bool CacheEnabled, int MaxCacheEntries, TimeSpan? DefaultTimeToLive);
}
