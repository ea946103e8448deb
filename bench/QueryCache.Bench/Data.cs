using System.Numerics;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Bench;

/// <summary>What a benchmark query is, and so what the exact answer to it should be.</summary>
internal enum QueryKind
{
    /// <summary>A rewording of a cached question: similarity 0.85 to 0.90 to it (should hit).</summary>
    Paraphrase,

    /// <summary>Close but not close enough: similarity 0.80 to 0.85 to a cached question (should miss).</summary>
    NearMiss,

    /// <summary>A new topic (should miss by far).</summary>
    FarMiss,
}

/// <summary>
/// Seeded synthetic traffic. Cached questions sit around topic centres (similarity 0.8 to their centre), one tenant holds
/// about 45% of them and fifty small tenants about 1.1% each. Queries come in the hard band around the 0.85 threshold
/// (paraphrases at 0.85-0.90 and near-misses at 0.80-0.85 of a cached question of their tenant: 80% of all) and as far
/// misses; half ask the large tenant and half the small ones.
/// </summary>
internal sealed class Data
{
    public const int LargeTenant = 0;

    public required string[] Tenants { get; init; }
    public required float[][] Embeddings { get; init; }
    public required int[] TenantOf { get; init; }
    public required List<Query> Queries { get; init; }

    public sealed record Query(float[] Vector, int Tenant, QueryKind Kind)
    {
        public bool Large => Tenant == LargeTenant;
    }

    public static Data Generate(int entries, int dimensions, int queries, int seed = 42)
    {
        var rng = new Random(seed);
        var tenants = Enumerable.Range(0, 51).Select(i => i == LargeTenant ? "large" : $"small-{i:00}").ToArray();
        var topics = Math.Max(entries / 5, 10);
        var centres = new float[topics][];
        for (var i = 0; i < topics; i++)
        {
            centres[i] = Vectors.Random(rng, dimensions);
        }

        var embeddings = new float[entries][];
        var tenantOf = new int[entries];
        var byTenant = tenants.Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < entries; i++)
        {
            embeddings[i] = Vectors.AtSimilarity(centres[rng.Next(topics)], 0.8, rng);
            tenantOf[i] = rng.NextDouble() < 0.45 ? LargeTenant : 1 + rng.Next(tenants.Length - 1);
            byTenant[tenantOf[i]].Add(i);
        }

        var list = new List<Query>(queries);
        for (var q = 0; q < queries; q++)
        {
            var tenant = q % 2 == 0 ? LargeTenant : 1 + rng.Next(tenants.Length - 1);
            var kind = (q / 2 % 20) switch
            {
                < 8 => QueryKind.Paraphrase,
                < 16 => QueryKind.NearMiss,
                _ => QueryKind.FarMiss,
            };
            var pool = byTenant[tenant];
            list.Add(kind == QueryKind.FarMiss || pool.Count == 0
                ? new Query(Vectors.Random(rng, dimensions), tenant, QueryKind.FarMiss)
                : new Query(Vectors.AtSimilarity(embeddings[pool[rng.Next(pool.Count)]],
                    kind == QueryKind.Paraphrase ? 0.85 + 0.05 * rng.NextDouble() : 0.80 + 0.05 * rng.NextDouble(), rng), tenant, kind));
        }

        return new Data { Tenants = tenants, Embeddings = embeddings, TenantOf = tenantOf, Queries = list };
    }

    /// <summary>Rounds every vector as a halfvec column stores it, in place.</summary>
    public void RoundToHalf()
    {
        foreach (var vector in Embeddings.Concat(Queries.Select(q => q.Vector)))
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = (float)(Half)vector[i];
            }
        }
    }

    /// <summary>The exact nearest entry of the query's tenant and its similarity (in process, float32, both cores).</summary>
    public (int Entry, double Similarity)[] ExactAnswers() => Queries.AsParallel().AsOrdered().Select(q =>
    {
        var (best, similarity) = (-1, double.MinValue);
        for (var i = 0; i < Embeddings.Length; i++)
        {
            if (TenantOf[i] == q.Tenant && Dot(q.Vector, Embeddings[i]) is var s && s > similarity)
            {
                (best, similarity) = (i, s);
            }
        }

        return (best, similarity);
    }).ToArray();

    public static double Dot(float[] a, float[] b)
    {
        var width = Vector<float>.Count;
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - width; i += width)
        {
            sum += new Vector<float>(a, i) * new Vector<float>(b, i);
        }

        var total = (double)Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }
}
