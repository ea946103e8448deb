using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace QueryCache.Tests.Infrastructure;

/// <summary>A deterministic embedder (same text, same unit vector) that counts its calls. Only the embedding model is faked; the database never is.</summary>
public sealed class CountingEmbeddingGenerator(int dimensions = DatabaseFixture.Dimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    private int _calls;
    private int _values;

    public int Calls => _calls;

    /// <summary>Texts embedded, over all calls.</summary>
    public int Values => _values;

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var embeddings = values.Select(v => new Embedding<float>(Embed(v))).ToList();
        Interlocked.Add(ref _values, embeddings.Count);
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(embeddings));
    }

    public float[] Embed(string text)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return Vectors.Random(new Random(seed), dimensions);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
