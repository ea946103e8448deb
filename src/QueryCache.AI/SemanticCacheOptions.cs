using Microsoft.Extensions.AI;

namespace QueryCache;

/// <summary>Options of the semantic-caching chat middleware that <c>UseSemanticCache()</c> adds.</summary>
public sealed class SemanticCacheOptions
{
    /// <summary>
    /// The question a request is cached under: by default the text of its last user message (question-level caching,
    /// which is what a RAG pipeline needs, rather than the whole rendered prompt). Return null to pass a request through.
    /// </summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, string?> QuestionSelector { get; set; } = LastUserMessage;

    /// <summary>The similarity threshold of these lookups; null takes the tenant's, else the global one.</summary>
    public double? SimilarityThreshold { get; set; }

    /// <summary>How long a stored answer lives; null takes the configured default TTL.</summary>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>
    /// Cache requests that offer tools. Off by default: the answer to such a request may depend on what the tools
    /// returned at that moment. A response that calls a tool is never cached.
    /// </summary>
    public bool CacheRequestsWithTools { get; set; }

    /// <summary>
    /// Cache requests that carry a <see cref="ChatOptions.ConversationId"/>. Off by default: the provider holds the
    /// conversation's history, so the same last message can mean something else in another conversation.
    /// </summary>
    public bool CacheRequestsInConversations { get; set; }

    /// <summary>The default <see cref="QuestionSelector"/>: the text of the last user message, or null when there is none.</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options (unused).</param>
    /// <returns>The question, or null.</returns>
    public static string? LastUserMessage(IEnumerable<ChatMessage> messages, ChatOptions? options) =>
        messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text;
}

/// <summary>The keys the semantic-caching chat middleware reads from and writes to <c>AdditionalProperties</c>.</summary>
public static class SemanticCacheProperties
{
    /// <summary>Key of the <see cref="CacheScope"/> in <see cref="ChatOptions.AdditionalProperties"/>; set it with <c>WithCacheScope</c>.</summary>
    public const string Scope = "querycache.scope";

    /// <summary>
    /// Key of the user asking, in a scope shared within the tenant (<see cref="CacheQuery.AskedByUserId"/>); set it with
    /// <c>WithCacheAsker</c>. Needed for corroborated sharing (<see cref="CacheConfig.ShareAfterAskers"/>) and erasure.
    /// </summary>
    public const string AskedBy = "querycache.asked_by";

    /// <summary>Key of a response's <c>bool</c>: true when the cache answered it, false when the inner client did.</summary>
    public const string Hit = "querycache.hit";

    /// <summary>Key of a cached response's <c>double</c>: the cosine similarity of the cached question to this one.</summary>
    public const string Similarity = "querycache.similarity";

    /// <summary>Key of a cached response's <c>long</c>: the id of the entry that answered.</summary>
    public const string EntryId = "querycache.entry_id";
}
