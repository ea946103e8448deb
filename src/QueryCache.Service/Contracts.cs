namespace QueryCache;

/// <summary>Who a cache call is for. Entries of one tenant never answer another; a user's private entries answer only that user.</summary>
/// <param name="TenantId">The tenant; the isolation boundary. Required.</param>
/// <param name="UserId">The user, or null. A lookup sees the tenant's shared entries and this user's private ones; a store with a user id is private to that user.</param>
public sealed record CacheScope(string TenantId, string? UserId = null);

/// <summary>A question and its answer to store.</summary>
public sealed record CacheEntry
{
    /// <summary>Who the entry is for: its tenant, and its user when it is private to one.</summary>
    public required CacheScope Scope { get; init; }

    /// <summary>The app's user message the question came from. At most one entry per user message (and model).</summary>
    public Guid? UserMessageId { get; init; }

    /// <summary>
    /// The user who asked, when <see cref="Scope"/> shares the entry within the tenant (no user id): erasing that user
    /// (<c>InvalidateUserAsync</c>) then removes the entry too. Defaults to the scope's user.
    /// </summary>
    public string? AskedByUserId { get; init; }

    /// <summary>The app's assistant message that answered it.</summary>
    public Guid? AssistantMessageId { get; init; }

    /// <summary>The question as it was embedded (the rephrased query where the app has one).</summary>
    public required string QueryText { get; init; }

    /// <summary>The answer to cache.</summary>
    public required string Answer { get; init; }

    /// <summary>The question's embedding; when empty, the registered <c>IEmbeddingGenerator</c> embeds <see cref="QueryText"/>.</summary>
    public ReadOnlyMemory<float> Embedding { get; init; }

    /// <summary>How long the entry lives; null takes the configured default TTL (none unless configured).</summary>
    public TimeSpan? TimeToLive { get; init; }
}

/// <summary>A stored answer close enough to the question.</summary>
public sealed record CacheHit
{
    /// <summary>The entry that answered.</summary>
    public required long EntryId { get; init; }

    /// <summary>Its cached answer.</summary>
    public required string Answer { get; init; }

    /// <summary>The question it was cached for.</summary>
    public required string QueryText { get; init; }

    /// <summary>Cosine similarity between the question and the cached one, 1 for an exact match.</summary>
    public required double Similarity { get; init; }

    /// <summary>The app's user message the entry came from.</summary>
    public Guid? UserMessageId { get; init; }

    /// <summary>The app's assistant message that answered it.</summary>
    public Guid? AssistantMessageId { get; init; }
}

/// <summary>Figures of the cache (one tenant's, or everything's) plus this process's lookup counters.</summary>
public sealed record CacheStats
{
    /// <summary>The tenant the figures are for; null for the whole cache.</summary>
    public string? TenantId { get; init; }

    /// <summary>Entries stored, expired ones not yet cleaned up included.</summary>
    public long TotalEntries { get; init; }

    /// <summary>Hits recorded on those entries.</summary>
    public long TotalCacheHits { get; init; }

    /// <summary>Entries past their expiry that the cleanup has not deleted yet (they never answer).</summary>
    public long ExpiredEntries { get; init; }

    /// <summary>Entries that answered at least once.</summary>
    public long EntriesWithHits { get; init; }

    /// <summary>Tenants with at least one entry.</summary>
    public long TenantCount { get; init; }

    /// <summary>When the oldest entry was stored.</summary>
    public DateTimeOffset? OldestEntryAt { get; init; }

    /// <summary>When the newest entry was stored.</summary>
    public DateTimeOffset? NewestEntryAt { get; init; }

    /// <summary>When an entry last answered.</summary>
    public DateTimeOffset? LastHitAt { get; init; }

    /// <summary>Shared entries still waiting for corroboration (each answers only the user who asked meanwhile).</summary>
    public long PendingEntries { get; init; }

    /// <summary>Entries that waited for corroboration and now answer their whole tenant (corroborated or approved).</summary>
    public long PromotedEntries { get; init; }

    /// <summary>Lookups this process answered from the cache since it started (all tenants).</summary>
    public long LookupHits { get; init; }

    /// <summary>Lookups this process missed since it started (all tenants).</summary>
    public long LookupMisses { get; init; }

    /// <summary><see cref="LookupHits"/> over all lookups, 0 before the first.</summary>
    public double HitRate => LookupHits + LookupMisses == 0 ? 0 : (double)LookupHits / (LookupHits + LookupMisses);
}

/// <summary>The settings in force for a tenant (its overrides over the global ones), or the global settings.</summary>
public sealed record CacheConfig
{
    /// <summary>The tenant; null for the global settings.</summary>
    public string? TenantId { get; init; }

    /// <summary>Cosine similarity from 0 to 1 at or above which a cached question answers.</summary>
    public required double SimilarityThreshold { get; init; }

    /// <summary>False turns every lookup into a miss.</summary>
    public required bool CacheEnabled { get; init; }

    /// <summary>Entries the cleanup keeps.</summary>
    public required int MaxCacheEntries { get; init; }

    /// <summary>Lifetime of entries stored without one; null for no expiry.</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }

    /// <summary>Whether the lexical guard checks candidate hits.</summary>
    public bool GuardEnabled { get; init; } = true;

    /// <summary>Terms that tell questions apart for the guard (a tenant's products, say); <c>a|b</c> is one term written two ways.</summary>
    public IReadOnlyList<string> ContrastTerms { get; init; } = [];

    /// <summary>
    /// How many distinct users must ask questions a new shared entry answers before it answers the whole tenant; until
    /// then it answers only the user who asked (<see cref="CacheEntry.AskedByUserId"/>). 1 (the default): at once.
    /// </summary>
    public int ShareAfterAskers { get; init; } = 1;

    /// <summary>Equal settings, contrast terms compared item by item.</summary>
    /// <param name="other">The other settings.</param>
    /// <returns>True when every setting is the same.</returns>
    public bool Equals(CacheConfig? other) =>
        other is not null && TenantId == other.TenantId && SimilarityThreshold.Equals(other.SimilarityThreshold)
        && CacheEnabled == other.CacheEnabled && MaxCacheEntries == other.MaxCacheEntries && DefaultTimeToLive == other.DefaultTimeToLive
        && GuardEnabled == other.GuardEnabled && ContrastTerms.SequenceEqual(other.ContrastTerms) && ShareAfterAskers == other.ShareAfterAskers;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(TenantId, SimilarityThreshold, CacheEnabled, MaxCacheEntries, DefaultTimeToLive, GuardEnabled);
}

/// <summary>A change to the settings; a null property is left as it is.</summary>
public sealed record CacheConfigUpdate
{
    /// <summary>Cosine similarity from 0 to 1 at or above which a cached question answers.</summary>
    public double? SimilarityThreshold { get; init; }

    /// <summary>False turns every lookup into a miss (entries are kept).</summary>
    public bool? CacheEnabled { get; init; }

    /// <summary>Entries kept after cleanup, at least 1: the whole cache's cap globally, the tenant's own cap per tenant.</summary>
    public int? MaxCacheEntries { get; init; }

    /// <summary>Lifetime of entries stored without one, greater than zero.</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }

    /// <summary>Turns the lexical guard on or off.</summary>
    public bool? GuardEnabled { get; init; }

    /// <summary>Replaces the contrast terms (an empty list clears them).</summary>
    public IReadOnlyList<string>? ContrastTerms { get; init; }

    /// <summary>
    /// Distinct askers a new shared entry waits for before it answers the whole tenant, 1 to 1000 (1: at once). Entries
    /// already shared stay shared.
    /// </summary>
    public int? ShareAfterAskers { get; init; }
}

/// <summary>What <c>GetOrAddAsync</c> answered with: a cached answer, or the one the factory produced (and stored).</summary>
public sealed record CachedAnswer
{
    /// <summary>The answer.</summary>
    public required string Answer { get; init; }

    /// <summary>True when the answer came from the cache; false when the factory produced it.</summary>
    public required bool FromCache { get; init; }

    /// <summary>The cache hit when <see cref="FromCache"/>.</summary>
    public CacheHit? Hit { get; init; }

    internal static CachedAnswer From(CacheHit hit) => new() { Answer = hit.Answer, FromCache = true, Hit = hit };
}

/// <summary>What <see cref="IQueryCacheService.GetOrAddAsync{T}"/> returns: the cache's hit, or what the pipeline produced.</summary>
/// <typeparam name="T">What the pipeline produces (an answer's text, a chat response...).</typeparam>
public sealed record CacheResult<T>
{
    /// <summary>The entry that answered; null when the pipeline ran.</summary>
    public CacheHit? Hit { get; init; }

    /// <summary>What the pipeline produced; default when the cache answered.</summary>
    public T? Value { get; init; }

    /// <summary>True when the cache answered.</summary>
    public bool FromCache => Hit is not null;
}

/// <summary>A lookup: the question, its embedding, or both.</summary>
public sealed record CacheQuery
{
    /// <summary>Who asks. Required.</summary>
    public required CacheScope Scope { get; init; }

    /// <summary>
    /// The question. With it the lookup tries the exact-match path first, and the lexical guard and the grey-zone
    /// verifier check a candidate before it is served; without it only the similarity threshold does.
    /// </summary>
    public string? Question { get; init; }

    /// <summary>The question's embedding; when empty, the registered <c>IEmbeddingGenerator</c> embeds <see cref="Question"/>.</summary>
    public ReadOnlyMemory<float> Embedding { get; init; }

    /// <summary>The threshold for this lookup; null for the tenant's (else the global) setting.</summary>
    public double? SimilarityThreshold { get; init; }

    /// <summary>
    /// The user asking, in a scope shared within the tenant (no <see cref="CacheScope.UserId"/>). The lookup then also sees
    /// that user's own entries (those waiting for corroboration included) and, on a miss, counts them as an asker of another
    /// user's waiting entry that answers (<see cref="CacheConfig.ShareAfterAskers"/>); <c>GetOrAddAsync</c> stores its answer
    /// as asked by them. Null: an anonymous lookup, which sees shared entries only.
    /// </summary>
    public string? AskedByUserId { get; init; }
}

/// <summary>What a lookup found: the hit, or why it missed and how close the nearest entry came.</summary>
public sealed record CacheLookupResult
{
    /// <summary>The entry that answers, or null on a miss.</summary>
    public CacheHit? Hit { get; init; }

    /// <summary>Why it missed; null on a hit.</summary>
    public CacheMissReason? MissReason { get; init; }

    /// <summary>The similarity of the nearest entry of the scope, hit or miss; null when there is none (or the lookup failed).</summary>
    public double? NearestSimilarity { get; init; }

    /// <summary>The question of that nearest entry.</summary>
    public string? NearestQueryText { get; init; }

    /// <summary>The similarity threshold the lookup applied.</summary>
    public double? Threshold { get; init; }

    /// <summary>The embedding the lookup used (empty when the exact-match path answered without one).</summary>
    public ReadOnlyMemory<float> Embedding { get; init; }

    /// <summary>
    /// Under a learned decision, the estimated probability that the served candidate (on a miss, the nearest one) is
    /// right; null when the threshold and guard decided.
    /// </summary>
    public double? RightProbability { get; init; }
}
