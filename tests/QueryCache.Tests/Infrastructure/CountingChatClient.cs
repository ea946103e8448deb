using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace QueryCache.Tests.Infrastructure;

/// <summary>
/// A stand-in for the model behind the semantic cache: answers "answer to {last user message}" after
/// <see cref="Delay"/>, in <see cref="Chunks"/> streamed updates, and counts its calls. Only the chat model is faked.
/// </summary>
public sealed class CountingChatClient : IChatClient
{
    private int _calls;

    public int Calls => _calls;

    public TimeSpan Delay { get; set; }

    public int Chunks { get; set; } = 3;

    /// <summary>Makes the next responses call a tool instead of answering.</summary>
    public bool CallTool { get; set; }

    /// <summary>Makes streams fail after their first update.</summary>
    public bool FailMidStream { get; set; }

    public static string AnswerTo(string question) => "answer to " + question;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        await Task.Delay(Delay, cancellationToken);
        return new ChatResponse(Reply(messages)) { FinishReason = CallTool ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var text = Reply(messages).Text;
        var size = (text.Length + Chunks - 1) / Chunks;
        for (var i = 0; i < text.Length; i += size)
        {
            await Task.Delay(Delay, cancellationToken);
            if (FailMidStream && i > 0)
            {
                throw new HttpRequestException("the model's connection dropped");
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, text.Substring(i, Math.Min(size, text.Length - i)));
        }
    }

    private ChatMessage Reply(IEnumerable<ChatMessage> messages) => CallTool
        ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", "get_balance")])
        : new ChatMessage(ChatRole.Assistant, AnswerTo(messages.Last(m => m.Role == ChatRole.User).Text));

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
