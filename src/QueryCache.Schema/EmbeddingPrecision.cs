namespace QueryCache;

/// <summary>How the embedding column stores each dimension; chosen when migrating, fixed afterwards.</summary>
public enum EmbeddingPrecision
{
    /// <summary>
    /// <c>halfvec(N)</c>: 2 bytes per dimension. Half the storage and memory of <see cref="Full"/>, with the same
    /// lookup decisions on the labelled benchmark (docs/performance.md); the default.
    /// </summary>
    Half,

    /// <summary><c>vector(N)</c>: 4 bytes per dimension.</summary>
    Full,
}
