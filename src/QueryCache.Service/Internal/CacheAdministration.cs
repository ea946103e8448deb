using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace QueryCache.Internal;

/// <summary>
/// Invalidation, figures and settings: operator calls whose database errors reach the caller. Each change also drops
/// what this process's in-process tier holds for it at once; other instances learn of it from the database's notification.
/// </summary>
internal sealed class CacheAdministration(CacheDataSource database, LocalTier tier, LabelRecorder labels, QueryCacheMetrics metrics,
    ILogger<CacheAdministration> logger)
{
    /// <summary>
    /// An invalidation locks its entries in id order, but the background hit flush locks a hit row before its entry, so the
    /// two can deadlock; PostgreSQL then aborts one. The invalidation's statement is whole or nothing: it is run again.
    /// </summary>
    private static readonly ResiliencePipeline Deadlocks = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PostgresException>(e => e.SqlState == PostgresErrorCodes.DeadlockDetected),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(20),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    public Task<int> InvalidateTenantAsync(string tenantId, CancellationToken cancellationToken) =>
        InvalidateAsync("tenant", Check.TenantId(tenantId), CacheStatements.InvalidateTenant, new { TenantId = tenantId }, cancellationToken);

    public Task<int> EraseUserAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        InvalidateAsync("user", Check.TenantId(tenantId), CacheStatements.EraseUser,
            new { TenantId = tenantId, UserId = Check.Identifier(userId, "user id") }, cancellationToken);

    public Task<int> InvalidateMessagesAsync(IEnumerable<Guid> messageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var ids = messageIds.ToArray();
        return ids.Length == 0 || ids.Contains(Guid.Empty)
            ? throw new ArgumentException("Pass one or more message ids, none of them Guid.Empty.", nameof(messageIds))
            : InvalidateAsync("messages", LocalTier.AllTenants, CacheStatements.InvalidateMessages, new { Ids = ids }, cancellationToken);
    }

    public Task<int> InvalidateEntryAsync(string tenantId, long entryId, CancellationToken cancellationToken) =>
        InvalidateAsync("entry", tenantId, CacheStatements.InvalidateEntry, new { TenantId = tenantId, EntryId = entryId }, cancellationToken);

    /// <summary>
    /// A user's word on a served hit, its arguments checked: kept as a label; a wrong hit is withdrawn for that question,
    /// and an entry wrong for its own question goes. False when the entry is gone.
    /// </summary>
    public async Task<bool> ReportAsync(CacheFeedback feedback, CancellationToken cancellationToken)
    {
        var scope = feedback.Scope;
        using var connection = database.Primary.CreateConnection();
        var entry = await connection.QuerySingleOrDefaultAsync<(string QueryText, byte[] QueryHash)?>(new CommandDefinition(CacheStatements.EntryQuestion,
            new { scope.TenantId, feedback.EntryId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (entry is not { } cached)
        {
            return false;
        }

        await labels.WriteAsync([new Label(scope.TenantId, scope.UserId, feedback.Question, cached.QueryText, feedback.Similarity, feedback.Right,
            "feedback", feedback.EntryId)], cancellationToken).ConfigureAwait(false);
        if (!feedback.Right)
        {
            var hash = QueryText.Hash(feedback.Question);
            // Wrong for its own question: the answer is wrong for everyone, so the entry goes.
            await (hash.AsSpan().SequenceEqual(cached.QueryHash)
                ? InvalidateEntryAsync(scope.TenantId, feedback.EntryId, cancellationToken)
                : connection.ExecuteAsync(new CommandDefinition(CacheStatements.Withdraw, new { scope.TenantId, Hash = hash, feedback.EntryId },
                    cancellationToken: cancellationToken))).ConfigureAwait(false);
        }

        return true;
    }

    public Task<int> InvalidateAllAsync(CancellationToken cancellationToken) =>
        InvalidateAsync("all", LocalTier.AllTenants, CacheStatements.InvalidateAll, null, cancellationToken);

    public async Task<CacheStats> GetStatsAsync(string? tenantId, CancellationToken cancellationToken)
    {
        Check.OptionalIdentifier(tenantId, "tenant id");
        using var connection = database.Primary.CreateConnection();
        var row = await connection.QuerySingleAsync<StatsRow>(
            new CommandDefinition(CacheStatements.Stats, new { TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new CacheStats
        {
            TenantId = tenantId,
            TotalEntries = row.TotalEntries,
            TotalCacheHits = row.TotalHits,
            ExpiredEntries = row.ExpiredEntries,
            EntriesWithHits = row.HitEntries,
            TenantCount = row.TenantCount,
            OldestEntryAt = DatabaseTime.ToOffset(row.OldestEntryAt),
            NewestEntryAt = DatabaseTime.ToOffset(row.NewestEntryAt),
            LastHitAt = DatabaseTime.ToOffset(row.LastHitAt),
            PendingEntries = row.PendingEntries,
            PromotedEntries = row.PromotedEntries,
        };
    }

    public async Task<CacheConfig> GetConfigAsync(string? tenantId, CancellationToken cancellationToken)
    {
        Check.OptionalIdentifier(tenantId, "tenant id");
        if (tier.TryGetConfig(tenantId, out var remembered))
        {
            return remembered!;
        }

        var generation = tier.Generation;
        using var connection = database.Primary.CreateConnection();
        var row = await connection.QuerySingleOrDefaultAsync<ConfigRow>(
                new CommandDefinition(CacheStatements.GetConfig, new { TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"{QueryCacheSchema.Schema}.{QueryCacheSchema.Config.Table} has no global row; apply the QueryCache migrations (dotnet ef database update) to restore it.");
        var config = new CacheConfig
        {
            TenantId = tenantId,
            SimilarityThreshold = row.SimilarityThreshold,
            CacheEnabled = row.CacheEnabled,
            MaxCacheEntries = row.MaxCacheEntries,
            DefaultTimeToLive = row.DefaultTimeToLive,
            GuardEnabled = row.GuardEnabled,
            ContrastTerms = row.ContrastTerms,
            ShareAfterAskers = row.ShareAfterAskers,
        };
        tier.AddConfig(tenantId, config, generation);
        return config;
    }

    public async Task UpdateConfigAsync(CacheConfigUpdate update, string? tenantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        Check.OptionalIdentifier(tenantId, "tenant id");
        Check.Threshold(update.SimilarityThreshold);
        if (update.MaxCacheEntries is < 1)
        {
            throw new ArgumentOutOfRangeException("update.MaxCacheEntries", update.MaxCacheEntries,
                "The cache must be allowed at least 1 entry; to turn it off set CacheEnabled = false. The config was left unchanged.");
        }

        if (update.ShareAfterAskers is < 1 or > QueryCacheSchema.MaxShareAfterAskers)
        {
            throw new ArgumentOutOfRangeException("update.ShareAfterAskers", update.ShareAfterAskers,
                $"Pass 1 (share a new answer at once) to {QueryCacheSchema.MaxShareAfterAskers} distinct askers. The config was left unchanged.");
        }

        Check.TimeToLive(update.DefaultTimeToLive);
        Check.ContrastTerms(update.ContrastTerms);
        using var connection = database.Primary.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(tenantId is null ? CacheStatements.UpdateGlobalConfig : CacheStatements.UpsertTenantConfig, new
        {
            TenantId = tenantId,
            update.SimilarityThreshold,
            update.CacheEnabled,
            update.MaxCacheEntries,
            update.DefaultTimeToLive,
            update.GuardEnabled,
            ContrastTerms = update.ContrastTerms?.Select(t => t.Trim()).ToArray(),
            update.ShareAfterAskers,
        }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        tier.Invalidate(tenantId ?? LocalTier.AllTenants, "invalidated");
        Log.ConfigUpdated(logger, tenantId is null ? "all tenants" : "tenant " + tenantId);
    }

    public async Task<bool> ApproveSharingAsync(string tenantId, long entryId, CancellationToken cancellationToken)
    {
        Check.TenantId(tenantId);
        using var connection = database.Primary.CreateConnection();
        var approved = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.ApproveSharing,
            new { TenantId = tenantId, EntryId = entryId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (approved)
        {
            tier.Invalidate(tenantId, "invalidated");
            metrics.Sharing("approved");
        }

        return approved;
    }

    public async Task ResetConfigAsync(string tenantId, CancellationToken cancellationToken)
    {
        using var connection = database.Primary.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(CacheStatements.ResetTenantConfig, new { TenantId = Check.TenantId(tenantId) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        tier.Invalidate(tenantId, "invalidated");
        Log.ConfigUpdated(logger, "tenant " + tenantId);
    }

    private async Task<int> InvalidateAsync(string scope, string tenantId, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var count = await Deadlocks.ExecuteAsync(async ct =>
        {
            using var connection = database.Primary.CreateConnection();
            return await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        tier.Invalidate(tenantId, "invalidated");
        metrics.Invalidated(count, scope);
        Log.Invalidated(logger, count, scope);
        return count;
    }

    /// <summary>The settings in force as the database returns them (Dapper maps text[] to an array, not to a list).</summary>
    private sealed record ConfigRow
    {
        public double SimilarityThreshold { get; init; }
        public bool CacheEnabled { get; init; }
        public int MaxCacheEntries { get; init; }
        public TimeSpan? DefaultTimeToLive { get; init; }
        public bool GuardEnabled { get; init; }
        public string[] ContrastTerms { get; init; } = [];
        public int ShareAfterAskers { get; init; }
    }

    private sealed record StatsRow(long TotalEntries, long TotalHits, long ExpiredEntries, long HitEntries, long TenantCount,
        DateTime? OldestEntryAt, DateTime? NewestEntryAt, DateTime? LastHitAt, long PendingEntries, long PromotedEntries);
}
