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
