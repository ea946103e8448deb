namespace QueryCache.Correctness;

/// <summary>
/// A logistic regression over standardized features, fitted by Newton's method with an L2 penalty: the probability that
/// serving a candidate is right. A dozen weights, so a fit is a few 14 × 14 solves and a prediction a dot product.
/// (ML.NET's trainers would bring their data-view machinery and megabytes of assemblies into the core for this.)
/// </summary>
internal sealed record LogisticModel(double[] Means, double[] Scales, double[] Weights, double Bias)
{
    public double Probability(ReadOnlySpan<double> features)
    {
        var z = Bias;
        for (var i = 0; i < Weights.Length; i++)
        {
            z += Weights[i] * (features[i] - Means[i]) / Scales[i];
        }

        return 1 / (1 + Math.Exp(-z));
    }

    /// <param name="features">One row per sample.</param>
    /// <param name="labels">True where serving was right.</param>
    /// <param name="penalty">The L2 penalty on the standardized weights (not the bias).</param>
    public static LogisticModel Fit(IReadOnlyList<double[]> features, IReadOnlyList<bool> labels, double penalty = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(features.Count);
        var d = features[0].Length;
        var means = new double[d];
        var scales = new double[d];
        for (var j = 0; j < d; j++)
        {
            means[j] = features.Average(x => x[j]);
            var variance = features.Average(x => (x[j] - means[j]) * (x[j] - means[j]));
            scales[j] = variance > 1e-12 ? Math.Sqrt(variance) : 1;
        }

        // θ = (bias, weights); rows are (1, standardized features).
        var rows = features.Select(x => (double[])[1.0, .. x.Select((v, j) => (v - means[j]) / scales[j])]).ToArray();
        var theta = new double[d + 1];
        for (var iteration = 0; iteration < 50; iteration++)
        {
            var gradient = new double[d + 1];
            var hessian = new double[d + 1, d + 1];
            for (var n = 0; n < rows.Length; n++)
            {
                var row = rows[n];
                var p = 1 / (1 + Math.Exp(-Dot(theta, row)));
                var residual = p - (labels[n] ? 1 : 0);
                var weight = Math.Max(p * (1 - p), 1e-9);
                for (var i = 0; i <= d; i++)
                {
                    gradient[i] += residual * row[i];
                    for (var j = 0; j <= i; j++)
                    {
                        hessian[i, j] += weight * row[i] * row[j];
                    }
                }
            }

            for (var i = 1; i <= d; i++)
            {
                gradient[i] += penalty * theta[i];
                hessian[i, i] += penalty;
            }

            var step = SolveSymmetric(hessian, gradient);
            var change = 0.0;
            for (var i = 0; i <= d; i++)
            {
                theta[i] -= step[i];
                change = Math.Max(change, Math.Abs(step[i]));
            }

            if (change < 1e-9)
            {
                break;
            }
        }

        return new LogisticModel(means, scales, theta[1..], theta[0]);
    }

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Solves H x = g for a symmetric positive definite H given by its lower triangle (Cholesky).</summary>
    private static double[] SolveSymmetric(double[,] h, double[] g)
    {
        var n = g.Length;
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = h[i, j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[i, k] * l[j, k];
                }

                l[i, j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-12)) : sum / l[j, j];
            }
        }

        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = g[i];
            for (var k = 0; k < i; k++)
            {
                sum -= l[i, k] * y[k];
            }

            y[i] = sum / l[i, i];
        }

        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < n; k++)
            {
                sum -= l[k, i] * x[k];
            }

            x[i] = sum / l[i, i];
        }

        return x;
    }
}
