using Microsoft.Extensions.AI;

namespace QueryCache;

/// <summary>
/// A grey-zone verifier that asks an <see cref="IChatClient"/> (a small, fast model is enough) whether the cached answer
/// answers the new question, and accepts only a reply that starts with YES. Any other reply is a refusal; an error or
/// the verifier timeout makes the lookup a miss (fail-closed).
/// </summary>
/// <param name="chatClient">The judge.</param>
/// <param name="domain">What the assistant answers questions about (for example "the ISAs and pensions of a wealth
/// manager"), said to the judge; null for nothing.</param>
public sealed class ChatClientCacheHitVerifier(IChatClient chatClient, string? domain = null) : ICacheHitVerifier
{
    private readonly string _instructions =
        $"You check answers served from the cache of an assistant{(string.IsNullOrWhiteSpace(domain) ? "" : " that answers questions about " + domain)}. " +
        "A cached answer was written for a similar but possibly different question. Reply YES if it is a correct and " +
        "complete answer to the new question (same subject, same numbers, same person, same period, same action), " +
        "otherwise reply NO. Reply with one word.";

    /// <inheritdoc />
    public async ValueTask<bool> VerifyAsync(CacheHitCandidate candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var response = await chatClient.GetResponseAsync(
            [
                new ChatMessage(ChatRole.System, _instructions),
                new ChatMessage(ChatRole.User,
                    $"New question: {candidate.Question}\nCached question: {candidate.CachedQuestion}\nCached answer: {candidate.CachedAnswer}\n" +
                    (candidate.FreshAnswer is { } fresh ? $"An answer written just now for the new question: {fresh}\n" : "") +
                    "Does the cached answer answer the new question? YES or NO."),
            ],
            new ChatOptions { Temperature = 0, MaxOutputTokens = 3 }, cancellationToken).ConfigureAwait(false);
        return response.Text.TrimStart().StartsWith("YES", StringComparison.OrdinalIgnoreCase);
    }
}
