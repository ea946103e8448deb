namespace QueryCache.Data;

/// <summary>A row of <see cref="QueryCacheSchema.Config"/>: the global settings (<see cref="TenantId"/> null) or one tenant's overrides (null columns inherit the global value).</summary>
internal sealed class CacheConfigRow
{
    public int Id { get; set; }
    public string? TenantId { get; set; }
    public double? SimilarityThreshold { get; set; }
    public bool? CacheEnabled { get; set; }
    public int? MaxCacheEntries { get; set; }
    public TimeSpan? DefaultTimeToLive { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public bool? GuardEnabled { get; set; }
    public string[]? ContrastTerms { get; set; }
    public int? ShareAfterAskers { get; set; }
}

/// <summary>
/// A row of <see cref="QueryCacheSchema.Embeddings"/>: one cached question and its answer. Its embedding column is not
/// mapped: the migrations create it in SQL (see <c>QueryCacheDbContext</c>).
/// </summary>
internal sealed class CacheEntryRow
{
    public long Id { get; set; }
    public required string TenantId { get; set; }
    public string? UserId { get; set; }
    public string? AskedBy { get; set; }
    public Guid? UserMessageId { get; set; }
    public Guid? AssistantMessageId { get; set; }
    public required string QueryText { get; set; }
    public required byte[] QueryHash { get; set; }
    public required string Answer { get; set; }
    public required string EmbeddingModel { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public bool Indexed { get; set; }
    public string? Sharing { get; set; }
    public DateTimeOffset? SharedAt { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.Hits"/>: an entry's hit count, apart from the wide row that carries its vector.</summary>
internal sealed class CacheHitRow
{
    public required string TenantId { get; set; }
    public long EntryId { get; set; }
    public long HitCount { get; set; }
    public DateTimeOffset LastHitAt { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.TenantSizes"/>: a tenant's live entry count for one embedding model.</summary>
internal sealed class TenantSizeRow
{
    public required string TenantId { get; set; }
    public required string EmbeddingModel { get; set; }
    public long Entries { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.TextEmbeddings"/>: one cached vector of an embedding model.</summary>
internal sealed class TextEmbeddingRow
{
    public required string Model { get; set; }
    public required byte[] TextHash { get; set; }
    public required Pgvector.Vector Embedding { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.JobState"/>: the last (or current) run of a job, and the backfill's checkpoint.</summary>
internal sealed class JobStateRow
{
    public required string Job { get; set; }
    public required string Status { get; set; }
    public string? TenantFilter { get; set; }
    public DateTimeOffset? SinceFilter { get; set; }
    public DateTimeOffset? UntilFilter { get; set; }
    public DateTimeOffset? CursorAskedAt { get; set; }
    public Guid? CursorUserMessageId { get; set; }
    public long? Total { get; set; }
    public long Processed { get; set; }
    public long Added { get; set; }
    public long AlreadyCached { get; set; }
    public long Skipped { get; set; }
    public long Failed { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Error { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.Erasures"/>: a user whose entries were erased.</summary>
internal sealed class ErasureRow
{
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public DateTimeOffset ErasedAt { get; set; }
}
