namespace QueryCache;

/// <summary>Why a lookup missed.</summary>
public enum CacheMissReason
{
    /// <summary>The scope holds no live entry of this embedding model.</summary>
    NoEntry,

    /// <summary>The nearest entry is less similar than the threshold.</summary>
    BelowThreshold,

    /// <summary>The cache is disabled for the tenant (<see cref="CacheConfig.CacheEnabled"/>).</summary>
    Disabled,

    /// <summary>The database failed or timed out (fail-open).</summary>
    Unavailable,

    /// <summary>The lexical guard: the two questions name different numbers, amounts or dates.</summary>
    GuardNumbers,

    /// <summary>The lexical guard: one question is negated and the other is not.</summary>
    GuardNegation,

    /// <summary>The lexical guard: the questions take opposite sides (open/close, buy/sell, transfer in/out...).</summary>
    GuardOppositeAction,

    /// <summary>The lexical guard: they are about different people (my / my partner's / my child's...).</summary>
    GuardPerson,

    /// <summary>The lexical guard: they are about different periods (this / next / last tax year...).</summary>
    GuardTime,

    /// <summary>The lexical guard: they name different contrast terms of the tenant (ISA / SIPP...).</summary>
    GuardContrastTerm,

    /// <summary>The grey-zone verifier said the cached answer does not answer the question.</summary>
    VerifierRejected,

    /// <summary>The grey-zone verifier failed or timed out; the candidate is refused (fail-closed).</summary>
    VerifierFailed,

    /// <summary>
    /// The learned decision: no candidate's estimated probability of being right was high enough for
    /// <see cref="QueryCacheOptions.MaxFalseHitRate"/>.
    /// </summary>
    DecisionRefused,
}

/// <summary>What a user said of a served hit: the answer was right for their question, or it was not.</summary>
public sealed record CacheFeedback
{
    /// <summary>Who asked (the tenant, and the user where known).</summary>
    public required CacheScope Scope { get; init; }

    /// <summary>The question that was answered from the cache.</summary>
    public required string Question { get; init; }

    /// <summary>The entry that answered it (<see cref="CacheHit.EntryId"/>).</summary>
    public required long EntryId { get; init; }

    /// <summary>The similarity it was served at (<see cref="CacheHit.Similarity"/>).</summary>
    public required double Similarity { get; init; }

    /// <summary>True when the answer was right for the question; false withdraws the entry for that question.</summary>
    public required bool Right { get; init; }
}

/// <summary>What decides a tenant's candidates, and the labels behind it.</summary>
public sealed record CacheDecision
{
    /// <summary><see cref="Mode"/> of a decision learned from labels.</summary>
    public const string Learned = "learned";

    /// <summary><see cref="Mode"/> when nothing has been learned (or <see cref="QueryCacheOptions.MaxFalseHitRate"/> is not set): threshold, guard, verifier.</summary>
    public const string ThresholdAndGuard = "threshold_guard";

    /// <summary>The fewest labels a fit is made from; a tenant with fewer uses the global fit.</summary>
    public const int MinimumLabels = 50;

    /// <summary>The fewest labels of each kind (right, wrong) a fit is made from.</summary>
    public const int MinimumOfEachKind = 10;

    /// <summary><see cref="Learned"/> or <see cref="ThresholdAndGuard"/>.</summary>
    public required string Mode { get; init; }

    /// <summary>The tenant the fit is its own; null for the global fit (or none).</summary>
    public string? FittedFor { get; init; }

    /// <summary>Labels the fit was made from.</summary>
    public int Labels { get; init; }

    /// <summary>Of those, the ones that said the cached answer was right.</summary>
    public int RightLabels { get; init; }

    /// <summary>The false-hit rate it was fitted for (or is configured, when nothing is fitted).</summary>
    public double? MaxFalseHitRate { get; init; }

    /// <summary>The false-hit rate expected of what it serves, estimated on labels each fit did not see.</summary>
    public double? ExpectedFalseHitRate { get; init; }

    /// <summary>The lowest probability of being right it serves; null when it serves nothing.</summary>
    public double? Cutoff { get; init; }

    /// <summary>When it was fitted.</summary>
    public DateTimeOffset? FittedAt { get; init; }
}

/// <summary>A candidate hit in the grey zone, for a verifier to judge.</summary>
public sealed record CacheHitCandidate
{
    /// <summary>Who asked.</summary>
    public required CacheScope Scope { get; init; }

    /// <summary>The question asked now.</summary>
    public required string Question { get; init; }

    /// <summary>The cached question.</summary>
    public required string CachedQuestion { get; init; }

    /// <summary>The cached answer that would be served.</summary>
    public required string CachedAnswer { get; init; }

    /// <summary>Cosine similarity of the two questions.</summary>
    public required double Similarity { get; init; }

    /// <summary>The entry whose answer would be served, where there is one.</summary>
    public long? EntryId { get; init; }

    /// <summary>
    /// For an audit: the answer the pipeline gave just now for <see cref="Question"/>. The verifier then judges whether
    /// the cached answer says the same; otherwise it judges the cached answer against the question alone.
    /// </summary>
    public string? FreshAnswer { get; init; }
}

/// <summary>
/// Judges candidate hits between the similarity threshold and <see cref="QueryCacheOptions.VerifyBelowSimilarity"/> (the
/// grey zone); others are never sent to it. Bounded by <see cref="QueryCacheOptions.VerifierTimeout"/>; an exception or
/// a timeout refuses the candidate. Register one to turn verification on, for example with <c>AddQueryCacheChatVerifier</c>.
/// </summary>
public interface ICacheHitVerifier
{
    /// <summary>True when the cached answer answers the new question.</summary>
    /// <param name="candidate">The candidate hit.</param>
    /// <param name="cancellationToken">Cancelled at the verifier timeout or by the caller.</param>
    /// <returns>True to serve the cached answer, false to miss.</returns>
    ValueTask<bool> VerifyAsync(CacheHitCandidate candidate, CancellationToken cancellationToken);
}

/// <summary>What an admission policy decided for a question about to be stored.</summary>
/// <param name="Admitted">Whether to store it.</param>
/// <param name="TimeToLive">How long the entry lives when admitted; null for the entry's own or the configured default.</param>
/// <param name="Reason">Why it was refused, for the metrics (a short lowercase word such as <c>time_sensitive</c>).</param>
public sealed record CacheAdmission(bool Admitted, TimeSpan? TimeToLive = null, string? Reason = null)
{
    /// <summary>Store it, with the entry's own or the configured default lifetime.</summary>
    public static CacheAdmission Admit { get; } = new(true);

    /// <summary>Do not store it.</summary>
    /// <param name="reason">Why, for the metrics.</param>
    /// <returns>The refusal.</returns>
    public static CacheAdmission Refuse(string reason) => new(false, null, reason);
}

/// <summary>
/// Decides whether a question is cached and for how long; consulted by every live store and by the backfill (where a
/// refusal counts as skipped). The default is <see cref="TimeSensitiveAdmissionPolicy"/>; register your own to replace it.
/// </summary>
public interface ICacheAdmissionPolicy
{
    /// <summary>The decision for <paramref name="question"/> in <paramref name="scope"/>.</summary>
    /// <param name="scope">Where it would be stored.</param>
    /// <param name="question">The question (the rephrased query where the app has one).</param>
    /// <param name="answer">Its answer.</param>
    /// <returns>Admit, with an optional lifetime, or refuse.</returns>
    CacheAdmission Decide(CacheScope scope, string question, string answer);
}
