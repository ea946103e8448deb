using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace QueryCache;

/// <summary>Options of the backfill and cleanup jobs (and of <c>QueryCacheService.PopulateFromExistingAsync</c>).</summary>
public sealed class QueryCacheJobOptions
{
    /// <summary>Q&amp;A pairs read, embedded and inserted per transaction; the checkpoint advances once per batch.</summary>
    [Range(1, 100_000)]
    public int BackfillBatchSize { get; set; } = 500;

    /// <summary>Questions sent to the embedding generator per call.</summary>
    [Range(1, 4096)]
    public int EmbeddingBatchSize { get; set; } = 64;

    /// <summary>
    /// False (the default): a backfilled answer is shared within its tenant, so any user's paraphrase hits it (the best
    /// hit rate). True: it is private to the user who asked; choose this when answers carry personal data (account
    /// balances, names) that must not reach colleagues in the same tenant.
    /// </summary>
    public bool BackfillPrivateToUser { get; set; }

    /// <summary>Entries deleted per cleanup statement; small batches keep row locks short.</summary>
    [Range(1, 100_000)]
    public int CleanupBatchSize { get; set; } = 500;

    /// <summary>Quartz cron expression of the scheduled cleanup (default every 15 minutes); empty for on-demand only.</summary>
    public string? CleanupSchedule { get; set; } = "0 0/15 * * * ?";

    /// <summary>After a cleanup that deleted at least this many entries, run VACUUM (ANALYZE) on the table; 0 leaves it to autovacuum.</summary>
    [Range(0, long.MaxValue)]
    public long VacuumAfterDeletedEntries { get; set; } = 1000;
}

[OptionsValidator]
internal sealed partial class QueryCacheJobOptionsValidator : IValidateOptions<QueryCacheJobOptions>;

/// <summary>Which Q&amp;A pairs of <c>askwealth.v_cached_qa_pairs</c> a backfill reads; null means all.</summary>
public sealed record BackfillRequest
{
    public string? TenantId { get; init; }

    /// <summary>Pairs asked at or after this instant.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Pairs asked before this instant.</summary>
    public DateTimeOffset? Until { get; init; }
}

/// <summary>What a backfill or cleanup run did, or is doing; read it with <see cref="IQueryCacheJobs"/>.</summary>
public sealed record QueryCacheJobStatus
{
    public required string Job { get; init; }

    /// <summary>running, completed, interrupted (cancelled or its process died; the next run resumes) or failed.</summary>
    public required string Status { get; init; }
    public string? TenantId { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }

    /// <summary>Pairs the backfill will read in all (counted when it started); null for cleanup.</summary>
    public long? Total { get; init; }

    /// <summary>Pairs read by the backfill; entries deleted by cleanup.</summary>
    public long Processed { get; init; }
    public long Added { get; init; }
    public long AlreadyCached { get; init; }

    /// <summary>Pairs not cached because of an empty or too long question or answer, or because their user was erased.</summary>
    public long Skipped { get; init; }

    /// <summary>Pairs whose embedding failed or was invalid.</summary>
    public long Failed { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The backfill's checkpoint: the last pair it committed.</summary>
    internal DateTimeOffset? CursorAskedAt { get; init; }

    internal Guid? CursorUserMessageId { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Error { get; init; }

    /// <summary>Pairs (or entries) per second so far.</summary>
    public double Rate => (UpdatedAt - StartedAt).TotalSeconds is > 0 and var seconds ? Processed / seconds : 0;

    /// <summary>Estimated time to finish a running backfill, when it can be told.</summary>
    public TimeSpan? EstimatedRemaining => Status == "running" && Total is { } total && Rate > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - Processed) / Rate)
        : null;
}

/// <summary>Triggers the cache's Quartz jobs now and reads their last run. Registered by <c>AddQueryCacheJobs</c>.</summary>
public interface IQueryCacheJobs
{
    /// <summary>Fires the backfill job (on whichever instance's scheduler picks it up); returns at once.</summary>
    Task TriggerBackfillAsync(BackfillRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>Fires the cleanup job; returns at once.</summary>
    Task TriggerCleanupAsync(CancellationToken cancellationToken = default);

    /// <summary>The current or last backfill, null before the first.</summary>
    Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The current or last cleanup, null before the first.</summary>
    Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default);
}

/// <summary>Another instance (or call) is running the same job; this one did nothing.</summary>
public sealed class QueryCacheJobBusyException(string job)
    : InvalidOperationException($"A {job} is already running against this database (possibly on another app instance); wait for it to finish or read its status.")
{
    public string Job { get; } = job;
}
