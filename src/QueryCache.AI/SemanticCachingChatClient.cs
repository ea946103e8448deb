using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace QueryCache.AI;

/// <summary>
/// Answers a chat request from the semantic cache when a close enough question of the same scope was answered before;
/// otherwise calls the inner client (once for identical concurrent misses) and stores its final text answer. Requests
/// without a <see cref="CacheScope"/> pass through. Failures, partial or empty answers and tool calls are never stored,
/// and a cache that fails only costs the cache: the inner client answers.
/// </summary>
internal sealed class SemanticCachingChatClient(
    IChatClient innerClient, IQueryCacheService cache, AIMetrics metrics, SemanticCacheOptions cacheOptions, ILogger<SemanticCachingChatClient> logger)
    : DelegatingChatClient(innerClient)
{
    /// <summary>An adapter over <see cref="IQueryCacheService.GetOrAddAsync{T}"/>: the cache's one miss protocol and failure policy.</summary>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var request = Prepare(messages, options, streaming: false);
        if (request.Scope is null)
        {
            return await base.GetResponseAsync(messages, request.InnerOptions, cancellationToken).ConfigureAwait(false);
        }

        var result = await cache.GetOrAddAsync(Query(request),
            ct => base.GetResponseAsync(messages, request.InnerOptions, ct), Cacheable, cacheOptions.TimeToLive, cancellationToken).ConfigureAwait(false);
        metrics.ChatRequest(result.FromCache ? "hit" : "miss", streaming: false);
        if (result.Hit is { } hit)
        {
            return Answered(hit);
        }

        var response = result.Value!;
        (response.AdditionalProperties ??= [])[SemanticCacheProperties.Hit] = false;
        return response;
    }

    /// <summary>The text to store of a response, or null when it must not be served to anyone else.</summary>
    private string? Cacheable(ChatResponse response)
    {
        if (NotCacheable(response) is { } reason)
        {
            Log.ChatResponseNotCached(logger, reason);
            return null;
        }

        return response.Text;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = Prepare(messages, options, streaming: true);
        // The cache's failure policy answers for the lookup (with FailOpen, a failure is a miss), as for GetResponseAsync.
        var first = request.Scope is null ? null : await cache.LookupAsync(Query(request), cancellationToken).ConfigureAwait(false);
        if (first?.Hit is { } hit)
        {
            metrics.ChatRequest("hit", streaming: true);
            yield return new ChatResponseUpdate(ChatRole.Assistant, hit.Answer)
            {
                FinishReason = ChatFinishReason.Stop,
                AdditionalProperties = Marks(hit),
            };
            yield break;
        }

        if (first is not null)
        {
            metrics.ChatRequest("miss", streaming: true);
        }

        // Kept only while the answer could still be stored; an answer too long for the cache is not held in memory.
        List<ChatResponseUpdate>? updates = first is null ? null : [];
        var length = 0;
        await foreach (var update in base.GetStreamingResponseAsync(messages, request.InnerOptions, cancellationToken).ConfigureAwait(false))
        {
            if (updates is not null)
            {
                length += update.Text.Length;
                if (length > QueryCacheSchema.MaxAnswerLength)
                {
                    updates = null;
                    Log.ChatResponseNotCached(logger, "the answer is longer than the cache stores");
                }
                else
                {
                    updates.Add(update);
                }
            }

            yield return update;
        }

        // Reached only when the inner stream completed and the caller read it to the end: an error, a cancellation or a
        // caller that stopped early leaves before this line, and nothing is stored.
        if (updates is not null)
        {
            await StoreAsync(request, first!.Embedding, updates.ToChatResponse(), cancellationToken).ConfigureAwait(false);
        }
    }

    private Request Prepare(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions, bool streaming)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var scope = chatOptions.GetCacheScope();
        var innerOptions = scope is null ? chatOptions : WithoutScope(chatOptions!);
        var reason = scope is null ? "no_scope"
            : chatOptions!.Tools is { Count: > 0 } && !cacheOptions.CacheRequestsWithTools ? "tools"
            : chatOptions.ConversationId is not null && !cacheOptions.CacheRequestsInConversations ? "conversation"
            : null;
        var question = reason is null ? cacheOptions.QuestionSelector(messages, chatOptions) : null;
        if (reason is null && string.IsNullOrWhiteSpace(question))
        {
            reason = "no_question";
        }
        else if (question?.Length > QueryCacheSchema.MaxQueryTextLength)
        {
            reason = "question_too_long";
        }

        if (reason is not null)
        {
            metrics.ChatRequest("bypass", streaming, reason);
            Log.ChatBypassed(logger, reason);
            return new Request(null, "", innerOptions, null);
        }

        return new Request(scope, question!, innerOptions, chatOptions.GetCacheAsker());
    }

    private CacheQuery Query(Request request) => new()
    {
        Scope = request.Scope!,
        Question = request.Question,
        SimilarityThreshold = cacheOptions.SimilarityThreshold,
        AskedByUserId = request.AskedBy,
    };

    private async Task StoreAsync(Request request, ReadOnlyMemory<float> embedding, ChatResponse response, CancellationToken cancellationToken)
    {
        var reason = NotCacheable(response);
        if (reason is not null)
        {
            Log.ChatResponseNotCached(logger, reason);
            return;
        }

        try
        {
            await cache.AddToCacheAsync(new CacheEntry
            {
                Scope = request.Scope!,
                AskedByUserId = request.AskedBy,
                QueryText = request.Question,
                Answer = response.Text,
                Embedding = embedding,
                TimeToLive = cacheOptions.TimeToLive,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ChatCacheFailed(logger, ex);
        }
    }

    /// <summary>Why a response must not be served to anyone else, or null when it may.</summary>
    private static string? NotCacheable(ChatResponse response)
    {
        if (response.Messages.SelectMany(m => m.Contents).Any(c => c is FunctionCallContent) || response.FinishReason == ChatFinishReason.ToolCalls)
        {
            return "the response calls a tool";
        }

        if (response.FinishReason == ChatFinishReason.Length || response.FinishReason == ChatFinishReason.ContentFilter)
        {
            return $"the response was cut short ({response.FinishReason})";
        }

        var text = response.Text;
        return string.IsNullOrWhiteSpace(text) ? "the response has no text"
            : text.Length > QueryCacheSchema.MaxAnswerLength ? "the answer is longer than the cache stores"
            : null;
    }

    private static ChatOptions WithoutScope(ChatOptions chatOptions)
    {
        // The scope is the cache's business: providers that forward AdditionalProperties must not send it on.
        var clone = chatOptions.Clone();
        clone.AdditionalProperties = clone.AdditionalProperties?.Clone();
        clone.AdditionalProperties?.Remove(SemanticCacheProperties.Scope);
        clone.AdditionalProperties?.Remove(SemanticCacheProperties.AskedBy);
        return clone;
    }

    private static ChatResponse Answered(CacheHit hit) => new(new ChatMessage(ChatRole.Assistant, hit.Answer))
    {
        FinishReason = ChatFinishReason.Stop,
        AdditionalProperties = Marks(hit),
    };

    private static AdditionalPropertiesDictionary Marks(CacheHit hit) => new()
    {
        [SemanticCacheProperties.Hit] = true,
        [SemanticCacheProperties.Similarity] = hit.Similarity,
        [SemanticCacheProperties.EntryId] = hit.EntryId,
    };

    private sealed record Request(CacheScope? Scope, string Question, ChatOptions? InnerOptions, string? AskedBy);
}
