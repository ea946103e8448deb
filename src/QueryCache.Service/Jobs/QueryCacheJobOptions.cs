using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace QueryCache;

/// <summary>
/// Options of the backfill and cleanup (the Quartz jobs, and <see cref="IQueryCacheService.PopulateFromExistingAsync(CancellationToken)"/>
/// and <see cref="IQueryCacheService.CleanupAsync"/>), validated when the host starts.
/// </summary>
public sealed partial class QueryCacheJobOptions : IValidatableObject
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

    /// <summary>Quartz cron expression of the scheduled cleanup (default every 15 minutes); empty for on demand only.</summary>
    public string? CleanupSchedule { get; set; } = "0 0/15 * * * ?";

    /// <summary>After a cleanup that deleted at least this many entries, run VACUUM (ANALYZE) on the table; 0 leaves it to autovacuum.</summary>
    [Range(0, long.MaxValue)]
    public long VacuumAfterDeletedEntries { get; set; } = 1000;

    /// <summary>
    /// When a cleanup that vacuums deleted at least this share of the entries, it first rebuilds the HNSW index
    /// (<c>REINDEX INDEX CONCURRENTLY</c>; lookups and stores go on): VACUUM repairs the graph around every deleted entry,
    /// which past this share costs more than building the graph anew (measured: docs/performance.md). 0 never rebuilds.
    /// </summary>
    [Range(0.0, 1.0)]
    public double ReindexAfterDeletedFraction { get; set; } = 0.04;

    /// <summary>
    /// <c>maintenance_work_mem</c> for that rebuild, so the graph is built in memory (pgvector builds far slower once it
    /// does not fit: about 4 KB per entry at 1536 dimensions with halfvec); empty keeps the server's setting.
    /// </summary>
    public string? IndexBuildMemory { get; set; } = "1GB";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(IndexBuildMemory) && !MemorySize().IsMatch(IndexBuildMemory))
        {
            yield return new ValidationResult(
                $"IndexBuildMemory '{IndexBuildMemory}' is not a PostgreSQL memory size; write it like \"1GB\" or \"512MB\", or leave it empty for the server's maintenance_work_mem.",
                [nameof(IndexBuildMemory)]);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d+\s*(kB|MB|GB|TB)?$")]
    private static partial System.Text.RegularExpressions.Regex MemorySize();
}

[OptionsValidator]
internal sealed partial class QueryCacheJobOptionsValidator : IValidateOptions<QueryCacheJobOptions>;
