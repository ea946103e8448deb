using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace QueryCache;

/// <summary>
/// A built-in embedder that needs no network and no model: hashed word stems and character trigrams, so questions
/// that share their content words land close together. It is a stand-in for demos, tests and the quickstart, not a
/// semantic model: it knows nothing of synonyms. Its vectors are stored under <see cref="ModelName"/>, so they never
/// meet a real model's.
/// </summary>
public sealed class LocalNgramEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The embedding model name its entries are stored under.</summary>
    public const string ModelName = "querycache-local-ngram-v2";

    /// <summary>The smallest output size it produces: fewer dimensions than this make unrelated words collide too often.</summary>
    public const int MinDimensions = 16;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "is", "are", "am", "was", "were", "be", "been", "do", "does", "did", "i", "me", "my", "mine",
        "you", "your", "we", "our", "us", "it", "its", "this", "that", "these", "those", "what", "which", "who", "how",
        "when", "where", "why", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "to", "of",
        "for", "on", "in", "at", "by", "with", "from", "about", "as", "and", "or", "if", "so", "there", "any", "some",
        "please", "tell", "explain", "know", "want", "need", "get", "much", "many", "have", "has", "had", "able", "into",
        "this", "than", "then", "also", "just",
    };

    private readonly int _dimensions;

    /// <param name="dimensions">Output size; must equal the cache's configured dimension.</param>
    public LocalNgramEmbeddingGenerator(int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, MinDimensions);
        _dimensions = dimensions;
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var embeddings = values.Select(v => new Embedding<float>(Embed(v)) { ModelId = ModelName }).ToList();
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(embeddings));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("querycache-local", null, ModelName, _dimensions) : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>The unit vector of <paramref name="text"/>.</summary>
    /// <param name="text">The text to embed.</param>
    /// <returns>A unit vector of the configured size.</returns>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[_dimensions];
        var words = Words(text);
        var stems = words.Where(w => !StopWords.Contains(w)).Select(Correctness.QuestionText.Stem).ToList();
        if (stems.Count == 0)
        {
            stems = words.Select(Correctness.QuestionText.Stem).ToList();
        }

        foreach (var stem in stems)
        {
            Add(vector, "w:" + stem, 1f);
            var padded = "<" + stem + ">";
            for (var i = 0; i + 3 <= padded.Length; i++)
            {
                Add(vector, string.Concat("c:", padded.AsSpan(i, 3)), 0.35f);
            }
        }

        var norm = MathF.Sqrt(vector.Sum(x => x * x));
        if (norm == 0)
        {
            // No letters or digits at all: a fixed direction, so the vector is still valid.
            vector[0] = 1;
            return vector;
        }

        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] /= norm;
        }

        return vector;
    }

    private static List<string> Words(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            builder.Append(char.IsLetterOrDigit(c) ? c : ' ');
        }

        return builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private void Add(float[] vector, string feature, float weight)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(feature), hash);
        var index = (int)(BinaryPrimitives.ReadUInt32LittleEndian(hash) % (uint)_dimensions);
        vector[index] += (hash[4] & 1) == 0 ? weight : -weight;
    }
}
