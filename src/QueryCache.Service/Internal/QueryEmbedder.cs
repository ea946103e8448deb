using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>Embeds text with the host's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, checking what it returns.</summary>
internal sealed class QueryEmbedder(IOptions<QueryCacheOptions> options, IEmbeddingGenerator<string, Embedding<float>>? generator = null)
{
    private readonly int _dimensions = options.Value.Dimensions;

    public async Task<ReadOnlyMemory<float>> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        var embedding = await Generator.GenerateAsync(text, cancellationToken: cancellationToken).ConfigureAwait(false);
        return Valid(embedding.Vector);
    }

    /// <summary>One call for the batch; the vectors in input order.</summary>
    public async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var embeddings = await Generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (embeddings.Count != texts.Count)
        {
            throw new InvalidOperationException(
                $"The embedding generator returned {embeddings.Count} embeddings for {texts.Count} texts; it must return one per text, in order.");
        }

        return embeddings.Select(e => e.Vector).ToList();
    }

    /// <summary>A generated vector the cache can store: the configured dimension, finite, not all zero.</summary>
    public ReadOnlyMemory<float> Valid(ReadOnlyMemory<float> vector)
    {
        try
        {
            return Check.Embedding(vector, _dimensions);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The registered IEmbeddingGenerator returned an unusable vector. {ex.Message}", ex);
        }
    }

    /// <summary>Whether the host registered a generator (lookups can carry their embeddings without one).</summary>
    public bool HasGenerator => generator is not null;

    /// <summary>Throws the explanation below when no generator is registered.</summary>
    public void EnsureGenerator() => _ = Generator;

    private IEmbeddingGenerator<string, Embedding<float>> Generator => generator ?? throw NoGenerator();

    /// <summary>Whether <paramref name="exception"/> says no generator is registered: a mistake to fix, never a miss.</summary>
    public static bool IsNoGenerator(Exception exception) => exception.Data.Contains(NoGeneratorMark);

    private const string NoGeneratorMark = "QueryCache.NoEmbeddingGenerator";

    private static InvalidOperationException NoGenerator()
    {
        var exception = new InvalidOperationException(
            "No IEmbeddingGenerator<string, Embedding<float>> is registered, so the cache cannot embed text itself. " +
            "Register one (Microsoft.Extensions.AI, or AddQueryCacheLocalEmbeddings()), or pass the embedding you computed.");
        exception.Data[NoGeneratorMark] = true;
        return exception;
    }
}
