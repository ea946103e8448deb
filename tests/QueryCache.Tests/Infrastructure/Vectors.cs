namespace QueryCache.Tests.Infrastructure;

/// <summary>Unit vectors with known cosine similarities.</summary>
public static class Vectors
{
    /// <summary>The tests' embedding dimension: small enough to be quick, large enough to keep random vectors far apart.</summary>
    public const int DefaultDimensions = 384;

    public static float[] Random(Random rng, int dimensions = DefaultDimensions)
    {
        var v = new double[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            // Box-Muller: a Gaussian direction is uniform on the sphere.
            v[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        }

        return Normalize(v);
    }

    /// <summary>A unit vector whose cosine similarity to the unit vector <paramref name="source"/> is <paramref name="similarity"/>.</summary>
    public static float[] AtSimilarity(float[] source, double similarity, Random rng)
    {
        var noise = Random(rng, source.Length);
        var dot = 0.0;
        for (var i = 0; i < source.Length; i++)
        {
            dot += noise[i] * source[i];
        }

        var orthogonal = new double[source.Length];
        for (var i = 0; i < source.Length; i++)
        {
            orthogonal[i] = noise[i] - dot * source[i];
        }

        var unitOrthogonal = Normalize(orthogonal);
        var scale = Math.Sqrt(1 - similarity * similarity);
        var result = new double[source.Length];
        for (var i = 0; i < source.Length; i++)
        {
            result[i] = similarity * source[i] + scale * unitOrthogonal[i];
        }

        return Normalize(result);
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>The vector as a <c>halfvec</c> column stores it.</summary>
    public static float[] RoundToHalf(float[] v) => v.Select(x => (float)(Half)x).ToArray();

    private static float[] Normalize(double[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }
}
