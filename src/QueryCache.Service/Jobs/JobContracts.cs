
namespace QueryCache;

/// <summary>Which Q&amp;A pairs of <c>askwealth.v_cached_qa_pairs</c> a backfill reads; null means all.</summary>
public sealed record BackfillRequest
{
    /// <summary>Only this tenant's pairs.</summary>
    public string? TenantId { get; init; }

    /// <summary>Pairs asked at or after this instant.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Pairs asked before this instant.</summary>
    public DateTimeOffset? Until { get; init; }
}

/// <summary>Where a backfill or cleanup run stands.</summary>
public enum JobRunStatus
{
    /// <summary>Still going (or its process died; reading the status reports that as <see cref="Interrupted"/>).</summary>
    Running,

    /// <summary>Finished its work.</summary>
    Completed,

    /// <summary>Cancelled, or its process died; a backfill resumes from its checkpoint next time.</summary>
    Interrupted,

    /// <summary>Stopped by an error; see <see cref="QueryCacheJobStatus.Error"/>.</summary>
    Failed,
}

/// <summary>What a backfill or cleanup run did, or is doing; read it with <see cref="IQueryCacheService.GetBackfillStatusAsync"/> and <see cref="IQueryCacheService.GetCleanupStatusAsync"/>.</summary>
public sealed record QueryCacheJobStatus
{
    /// <summary>The job: <c>backfill</c> or <c>cleanup</c>.</summary>
    public required string Job { get; init; }

    /// <summary>Where the run stands.</summary>
    public required JobRunStatus Status { get; init; }

    /// <summary>The backfill's tenant filter.</summary>
    public string? TenantId { get; init; }

    /// <summary>The backfill's lower bound on when questions were asked.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>The backfill's upper bound on when questions were asked.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Pairs the backfill will read in all (counted when it started); null for cleanup.</summary>
    public long? Total { get; init; }

    /// <summary>Pairs read by the backfill; entries deleted by cleanup.</summary>
    public long Processed { get; init; }

    /// <summary>Entries the backfill added.</summary>
    public long Added { get; init; }

    /// <summary>Pairs that were cached already (by an earlier run, or by a live store meanwhile).</summary>
    public long AlreadyCached { get; init; }

    /// <summary>
    /// Pairs not cached on purpose: an empty or too long question or answer, a user erased since, or a refusal of the
    /// admission policy (a time-relative question, by default).
    /// </summary>
    public long Skipped { get; init; }

    /// <summary>Pairs whose embedding failed or was invalid.</summary>
    public long Failed { get; init; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run last saved its state.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the run ended, if it has.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why a failed run failed.</summary>
    public string? Error { get; init; }

    /// <summary>The backfill's checkpoint: the asked time of the last pair it committed.</summary>
    internal DateTimeOffset? CursorAskedAt { get; init; }

    /// <summary>The backfill's checkpoint: the user message of the last pair it committed.</summary>
    internal Guid? CursorUserMessageId { get; init; }

    /// <summary>Pairs (or entries) per second so far.</summary>
    public double Rate => (UpdatedAt - StartedAt).TotalSeconds is > 0 and var seconds ? Processed / seconds : 0;

    /// <summary>Estimated time to finish a running backfill, when it can be told.</summary>
    public TimeSpan? EstimatedRemaining => Status == JobRunStatus.Running && Total is { } total && Rate > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - Processed) / Rate)
        : null;
}

/// <summary>Another instance (or call) is running the same job; this one did nothing.</summary>
/// <param name="job">The job that is busy.</param>
public sealed class QueryCacheJobBusyException(string job)
    : InvalidOperationException($"A {job} is already running against this database (possibly on another app instance); wait for it to finish or read its status.")
{
    /// <summary>The job that is busy: <c>backfill</c> or <c>cleanup</c>.</summary>
    public string Job { get; } = job;
}
