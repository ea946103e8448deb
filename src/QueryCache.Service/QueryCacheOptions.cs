using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace QueryCache;

/// <summary>How <see cref="QueryCacheService"/> records that an entry answered a lookup.</summary>
public enum HitRecordingMode
{
    /// <summary>In the lookup's own round trip: hit count and last hit are exact. A HOT update that adds no index entry.</summary>
    Immediate,

    /// <summary>Not at all: lookups are read-only, and size-capped eviction falls back to entry age.</summary>
    None,

    /// <summary>
    /// Counted in memory and written every <see cref="QueryCacheOptions.HitFlushInterval"/> in one statement, so a hit
    /// costs no write on the lookup's path. A crash loses at most one interval of counts.
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

    /// <summary>How hits are recorded; see <see cref="HitRecordingMode"/>.</summary>
    public HitRecordingMode HitRecording { get; set; } = HitRecordingMode.Immediate;

    /// <summary>How often batched hit counts are written (<see cref="HitRecordingMode.Batched"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan HitFlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class QueryCacheOptionsValidator : IValidateOptions<QueryCacheOptions>;
