using QueryCache.Tests.Infrastructure;

namespace QueryCache.Bench;

/// <summary>
/// Seeded synthetic traffic: topic centres, cached questions as paraphrase clusters around them, one large tenant and
/// many small ones, and queries that are paraphrases of cached questions (should hit) or new topics (should miss).
/// </summary>
internal sealed class Data
{
    public const double ParaphraseSimilarity = 0.93;

    public required int Dimensions { get; init; }
    public required string[] Tenants { get; init; }
    public required float[][] Embeddings { get; init; }
    public required int[] TenantOf { get; init; }
    public required List<Query> Queries { get; init; }

    public sealed record Query(float[] Vector, int Tenant, int? Source);

    public static Data Generate(int entries, int dimensions, int queries, int seed = 42)
    {
        var rng = new Random(seed);
        var tenants = Enumerable.Range(0, 51).Select(i => i == 0 ? "large" : $"small-{i:00}").ToArray();
        var topics = Math.Max(entries / 5, 10);
        var centres = new float[topics][];
        for (var i = 0; i < topics; i++)
        {
            centres[i] = Vectors.Random(rng, dimensions);
        }

        var vectors = new float[entries][];
        var tenantOf = new int[entries];
        for (var i = 0; i < entries; i++)
        {
            // Cached questions of one topic sit around its centre, not on top of each other.
            vectors[i] = Vectors.AtSimilarity(centres[rng.Next(topics)], 0.8, rng);
            tenantOf[i] = rng.NextDouble() < 0.5 ? 0 : 1 + rng.Next(tenants.Length - 1);
        }

        var list = new List<Query>(queries);
        for (var q = 0; q < queries; q++)
        {
            if (q % 2 == 0)
            {
                var source = rng.Next(entries);
                list.Add(new Query(Vectors.AtSimilarity(vectors[source], ParaphraseSimilarity, rng), tenantOf[source], source));
            }
            else
            {
                list.Add(new Query(Vectors.Random(rng, dimensions), q % 4 == 1 ? 0 : 1 + rng.Next(tenants.Length - 1), null));
            }
        }

        return new Data { Dimensions = dimensions, Tenants = tenants, Embeddings = vectors, TenantOf = tenantOf, Queries = list };
    }

    public static double Dot(float[] a, float[] b)
    {
        var sum = 0.0;
        var width = System.Numerics.Vector<float>.Count;
        var i = 0;
        var acc = System.Numerics.Vector<float>.Zero;
        for (; i <= a.Length - width; i += width)
        {
            acc += new System.Numerics.Vector<float>(a, i) * new System.Numerics.Vector<float>(b, i);
        }

        sum += System.Numerics.Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
