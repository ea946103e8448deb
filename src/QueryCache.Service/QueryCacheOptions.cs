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

    /// <summary>
    /// Optional connection string of a read replica (a streaming standby of the database in
    /// <see cref="ConnectionString"/>, or a multi-host string with <c>Target Session Attributes=prefer-standby</c>).
    /// Lookups read there; stores, hit counts, invalidation, config changes and the jobs always go to the primary. A
    /// store is visible on the standby once replication has applied it (its lag, usually milliseconds); a standby that
    /// fails or does not answer within <see cref="StandbyTimeout"/> is skipped for a few seconds and lookups read the
    /// primary, all within <see cref="LookupTimeout"/>.
    /// </summary>
    public string? ReadConnectionString { get; set; }

    /// <summary>
    /// How long a lookup waits for the standby (<see cref="ReadConnectionString"/>) before it asks the primary instead;
    /// null (the default) for half of <see cref="LookupTimeout"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan? StandbyTimeout { get; set; }

    /// <summary>
    /// A standby further behind the primary than this (measured every second, to the second) is left alone and lookups
    /// read the primary until it catches up; a standby that cannot be asked counts as too far. Null: no limit.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? MaxStandbyLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long <c>GetOrAddAsync</c> waits for another instance that is already answering the same question (of the
    /// same scope) before it runs the pipeline itself: identical concurrent misses across instances then run it once,
    /// through a PostgreSQL advisory lock keyed by the scope and the question. <see cref="TimeSpan.Zero"/> keeps single
    /// flight within the process.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SingleFlightWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Size of the optional in-process tier: exact-match hits and effective settings kept in memory, so a repeated
    /// question is answered without a round trip. 0 (the default) turns it off. Entries leave it after
    /// <see cref="LocalTierTimeToLive"/>, and on every instance as soon as PostgreSQL notifies an invalidation, a config
    /// change or a cleanup (LISTEN/NOTIFY); while the notification connection is down the tier is empty and unused.
    /// </summary>
    [Range(0, 1_000_000)]
    public int LocalTierSize { get; set; }

    /// <summary>The longest an entry stays in the in-process tier (<see cref="LocalTierSize"/>), notified or not.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan LocalTierTimeToLive { get; set; } = TimeSpan.FromMinutes(1);

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

    /// <summary>
    /// How long a whole lookup may take — embedding the question, the exact-match and the vector statements — before it
    /// counts as a miss (or fails with a <see cref="TimeoutException"/>, when <see cref="FailOpen"/> is off).
    /// </summary>
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
    /// With <see cref="ExactMatch"/>, whether a text lookup embeds the question while the exact-match round trip runs
    /// (true: a miss costs about the embedding plus the vector search; an exact hit cancels an embedding it did not
    /// need) or only after it missed (false: no embedding call for an exact hit, which matters when each call is
    /// billed). Null (the default) is false, unless the generator's registration says otherwise:
    /// <c>AddQueryCacheLocalEmbeddings()</c> makes it true, as an in-process model costs only CPU.
    /// </summary>
    public bool? EmbedDuringExactMatch { get; set; }

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

    /// <summary>
    /// The false-hit rate the cache may serve, for example 0.01. Null (the default): candidates are decided by the
    /// threshold, the guard and the verifier. A rate: wherever a decision has been learned from labels (see
    /// <c>FitDecisionAsync</c>; the tenant's own with enough labels, else the global one), a candidate is served only when
    /// its estimated probability of being right keeps the expected rate of what is served within it; the
    /// <see cref="DecisionCandidates"/> nearest entries are judged in turn. Where nothing has been learned yet, the
    /// threshold, guard and verifier decide as before.
    /// </summary>
    [Range(0.0001, 0.5)]
    public double? MaxFalseHitRate { get; set; }

    /// <summary>How many of the nearest entries a learned decision judges, nearest first (1 to 20; default 3).</summary>
    [Range(1, 20)]
    public int DecisionCandidates { get; set; } = 3;

    /// <summary>
    /// The share of would-be hits of <c>GetOrAddAsync</c> (the chat middleware included) that run the pipeline anyway and
    /// compare its fresh answer with the cached one, as a label for the learned decision: the registered verifier
    /// judges when there is one, else the two answers' embeddings must be at least 0.9 similar. The caller gets the
    /// fresh answer, so an audit costs one pipeline run. 0 (the default) turns audits off.
    /// </summary>
    [Range(0.0, 1.0)]
    public double AuditShare { get; set; }

    /// <summary>How long the verifier may take; past it the candidate is refused (a miss).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan VerifierTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What makes a question time-relative for the default admission policy (<see cref="TimeSensitiveAdmissionPolicy"/>):
    /// words and phrases such as "today", "latest", "this week".
    /// </summary>
    public IReadOnlyList<string> TimeSensitiveTerms { get; set; } = Correctness.Lexicon.TimeSensitive;

    /// <summary>
    /// Phrases that contain a time word without being about a moment, left out before <see cref="TimeSensitiveTerms"/>
    /// are looked for: your domain's, such as "current account" (a kind of bank account) in banking. None by default.
    /// </summary>
    public IReadOnlyList<string> TimeSensitiveExceptions { get; set; } = [];

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
