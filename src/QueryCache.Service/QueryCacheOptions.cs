using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace QueryCache;

/// <summary>How <see cref="QueryCacheService"/> records that an entry answered a lookup (its hit count and last hit).</summary>
public enum HitRecordingMode
{
    /// <summary>
    /// Written right after the lookup answers, off the caller's path, by one background writer that puts every hit
    /// that arrived meanwhile into one statement: counts are exact, and lost only by a crash in that moment.
    /// </summary>
    Immediate,

    /// <summary>Not at all: lookups are read-only, and size-capped eviction falls back to entry age.</summary>
    None,

    /// <summary>
    /// Counted in memory and written every <see cref="QueryCacheOptions.HitFlushInterval"/> in one statement: the fewest
    /// writes. A crash loses at most one interval of counts.
    /// </summary>
    Batched,
}

/// <summary>Options of the query cache, bound from <c>AddQueryCache</c> and validated when the host starts.</summary>
public sealed class QueryCacheOptions
{
    /// <summary>
    /// Connection string of the application database that holds the <c>askwealth</c> schema. Not needed when an
    /// <c>NpgsqlDataSource</c> is registered in the container (it must be built with <c>UseVector()</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Output size of the embedding model; must equal the dimension the migrations created the column with.</summary>
    [Range(1, QueryCacheSchema.MaxIndexedDimensions)]
    public int Dimensions { get; set; } = QueryCacheSchema.DefaultDimensions;

    /// <summary>
    /// Name of the model that produces the embeddings, stored with every entry. Entries of another model are never
    /// compared with this one's: change it when you change models and the cache starts afresh for the new one.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [MaxLength(200)]
    public string EmbeddingModel { get; set; } = "";

    /// <summary>How long a lookup may take before it counts as a miss (or fails, when <see cref="FailOpen"/> is off).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a store may take before it is dropped (or fails, when <see cref="FailOpen"/> is off).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When true (the default), a database failure or timeout makes a lookup a miss and drops a store with a
    /// warning, so the cache never fails the host's request. When false, those errors reach the caller.
    /// </summary>
    public bool FailOpen { get; set; } = true;

    /// <summary>When true (the default), text lookups first try the normalized-question hash and embed only on a miss.</summary>
    public bool ExactMatch { get; set; } = true;

    /// <summary>
    /// After most of at least 10 lookups and stores within 10 s failed or timed out, the cache leaves the database alone
    /// for this long (lookups miss and stores are dropped at once, without waiting for a timeout), then tries again.
    /// <see cref="TimeSpan.Zero"/> turns this off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Candidate hits at or above the threshold but below this similarity (the grey zone) are sent to the registered
    /// <see cref="ICacheHitVerifier"/>, if there is one; candidates at or above it are served without asking.
    /// </summary>
    [Range(0.0, 1.0)]
    public double VerifyBelowSimilarity { get; set; } = 0.95;

    /// <summary>How long the verifier may take; past it the candidate is refused (a miss).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan VerifierTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What makes a question time-relative for the default admission policy (<see cref="TimeSensitiveAdmissionPolicy"/>):
    /// words and phrases such as "today", "latest", "this week".
    /// </summary>
    public IReadOnlyList<string> TimeSensitiveTerms { get; set; } = Correctness.Lexicon.TimeSensitive;

    /// <summary>
    /// Null (the default): time-relative questions are not cached. A value: they are cached for this long only.
    /// </summary>
    public TimeSpan? TimeSensitiveTimeToLive { get; set; }

    /// <summary>How hits are recorded; see <see cref="HitRecordingMode"/>.</summary>
    public HitRecordingMode HitRecording { get; set; } = HitRecordingMode.Immediate;

    /// <summary>How often batched hit counts are written (<see cref="HitRecordingMode.Batched"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan HitFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// True (the default): a store commits its row and returns, and the entry's insertion into the HNSW index, the
    /// costly part of a store, follows on a background task; meanwhile lookups compare the entry exactly, so it answers
    /// at once. False: the store returns once the entry is indexed.
    /// </summary>
    public bool BackgroundIndexing { get; set; } = true;

    /// <summary>
    /// True (the default): the cache's own writes (stores, hit counts, index passes) commit without waiting for the
    /// write-ahead log to reach disk (<c>synchronous_commit = off</c> for those transactions only). A database crash can
    /// lose the last fraction of a second of them, never corrupt anything; a lost entry is a later miss. The backfill's
    /// batches always commit synchronously, with their checkpoint.
    /// </summary>
    public bool AsynchronousCommit { get; set; } = true;
}

[OptionsValidator]
internal sealed partial class QueryCacheOptionsValidator : IValidateOptions<QueryCacheOptions>;
