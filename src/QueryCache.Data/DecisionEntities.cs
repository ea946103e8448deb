namespace QueryCache.Data;

/// <summary>A row of <see cref="QueryCacheSchema.Labels"/>: one observed outcome of serving a cached answer.</summary>
internal sealed class LabelRow
{
    public long Id { get; set; }
    public string? TenantId { get; set; }
    public string? UserId { get; set; }
    public required string EmbeddingModel { get; set; }
    public required string Question { get; set; }
    public required string CachedQuestion { get; set; }
    public double Similarity { get; set; }
    public bool IsRight { get; set; }
    public required string Source { get; set; }
    public long? EntryId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.Decisions"/>: a fitted decision.</summary>
internal sealed class DecisionRow
{
    public int Id { get; set; }
    public string? TenantId { get; set; }
    public required string EmbeddingModel { get; set; }
    public double MaxFalseHitRate { get; set; }
    public required double[] Means { get; set; }
    public required double[] Scales { get; set; }
    public required double[] Weights { get; set; }
    public double Bias { get; set; }
    public double Cutoff { get; set; }
    public int LabelCount { get; set; }
    public int RightCount { get; set; }
    public double ExpectedFalseHitRate { get; set; }
    public DateTimeOffset FittedAt { get; set; }
}

/// <summary>A row of <see cref="QueryCacheSchema.Withdrawn"/>: an entry not to serve again for one question.</summary>
internal sealed class WithdrawnRow
{
    public required string TenantId { get; set; }
    public required byte[] QueryHash { get; set; }
    public long EntryId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class AskerRow
{
    public required string TenantId { get; set; }
    public long EntryId { get; set; }
    public required string UserId { get; set; }
    public DateTimeOffset AskedAt { get; set; }
}
