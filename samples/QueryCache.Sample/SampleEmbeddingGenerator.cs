using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

/// <summary>
/// Offline stand-in for a real embedding model: hashed word and character-trigram features, so rephrasings that share
/// words land close together. Replace it with your provider's generator.
/// </summary>
internal sealed class SampleEmbeddingGenerator(int dimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(Embed(v)))));

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    private float[] Embed(string text)
    {
        var vector = new float[dimensions];
        var letters = text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : ' ').ToArray();
        var normalized = $" {string.Join(' ', new string(letters).Split(' ', StringSplitOptions.RemoveEmptyEntries))} ";
        foreach (var word in normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            Add(vector, "w:" + word, 2f);
        }

        for (var i = 0; i + 3 <= normalized.Length; i++)
        {
            Add(vector, string.Concat("c:", normalized.AsSpan(i, 3)), 1f);
        }

        var norm = MathF.Sqrt(vector.Sum(x => x * x));
        return norm == 0 ? vector.Select((_, i) => i == 0 ? 1f : 0f).ToArray() : vector.Select(x => x / norm).ToArray();
    }

    private void Add(float[] vector, string feature, float weight)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(feature));
        var index = (int)(BitConverter.ToUInt32(hash, 0) % (uint)dimensions);
        vector[index] += (hash[4] & 1) == 0 ? weight : -weight;
    }
}
