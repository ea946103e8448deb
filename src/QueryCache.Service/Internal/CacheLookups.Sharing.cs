namespace QueryCache.Internal;

/// <content>Who a lookup is for.</content>
internal sealed partial class CacheLookups
{
    /// <summary>
    /// A lookup by a known asker in a shared scope sees that user's own entries (those waiting for corroboration
    /// included), as a lookup in their private scope does; stores keep the shared scope. Other users' waiting entries
    /// stay out of sight: they are private to whoever asked.
    /// </summary>
    public static CacheQuery AsAsker(CacheQuery query) =>
        query.AskedByUserId is { } asker && query.Scope.UserId is null ? query with { Scope = query.Scope with { UserId = asker } } : query;
}
