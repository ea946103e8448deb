using System.Runtime.CompilerServices;

namespace QueryCache.Internal;

/// <summary>
/// Argument guards. Each takes the value and the caller's expression for it (so an error names <c>entry.Scope.TenantId</c>
/// without anyone typing it), returns the value, and says in its message what was wrong and how to fix it.
/// </summary>
internal static class Check
{
    public static CacheScope Scope(CacheScope? scope, [CallerArgumentExpression(nameof(scope))] string name = "")
    {
        ArgumentNullException.ThrowIfNull(scope, name);
        Identifier(scope.TenantId, "tenant id", name + ".TenantId");
        OptionalIdentifier(scope.UserId, "user id", name + ".UserId");
        return scope;
    }

    public static string TenantId(string? tenantId, [CallerArgumentExpression(nameof(tenantId))] string name = "") =>
        Identifier(tenantId, "tenant id", name);

    /// <summary>An id that may be left out (a user for everyone, a tenant for every tenant): null, or an <see cref="Identifier"/>.</summary>
    public static string? OptionalIdentifier(string? value, string what, [CallerArgumentExpression(nameof(value))] string name = "") =>
        value is null ? null : Identifier(value, what, name);

    /// <summary>A tenant or user id: non-blank, at most <see cref="QueryCacheSchema.MaxScopeIdLength"/> characters, no NUL.</summary>
    public static string Identifier(string? value, string what, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"The {what} is empty; pass the {what} of the request (any non-blank text).", name);
        }

        if (value.Length > QueryCacheSchema.MaxScopeIdLength)
        {
            throw new ArgumentException(
                $"The {what} is {value.Length} characters long; at most {QueryCacheSchema.MaxScopeIdLength} are allowed. Use a stable id, not free text.", name);
        }

        return NoNul(value, what, name);
    }

    /// <summary>A question or answer: non-blank, at most <paramref name="maxLength"/> characters, no NUL.</summary>
    public static string Text(string? value, string what, int maxLength, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"The {what} is empty; only answered questions with text belong in the cache.", name);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException(
                $"The {what} is {value.Length} characters long; at most {maxLength} are cached. Skip caching it, or shorten it first.", name);
        }

        return NoNul(value, what, name);
    }

    public static double? Threshold(double? threshold, [CallerArgumentExpression(nameof(threshold))] string name = "")
    {
        if (threshold is { } t && !(t is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, threshold,
                "The similarity threshold is a cosine similarity from 0 to 1 (for example 0.85); higher means stricter matching.");
        }

        return threshold;
    }

    public static TimeSpan? TimeToLive(TimeSpan? timeToLive, [CallerArgumentExpression(nameof(timeToLive))] string name = "")
    {
        if (timeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, ttl,
                "The time to live must be greater than zero; leave it null to use the configured default.");
        }

        return timeToLive;
    }

    /// <summary>Contrast terms: at most 500, each non-blank, at most 200 characters, no NUL.</summary>
    public static IReadOnlyList<string>? ContrastTerms(IReadOnlyList<string>? terms, [CallerArgumentExpression(nameof(terms))] string name = "")
    {
        if (terms is null)
        {
            return null;
        }

        if (terms.Count > 500)
        {
            throw new ArgumentException($"There are {terms.Count} contrast terms; at most 500 are allowed. Keep the terms that tell your products apart.", name);
        }

        foreach (var term in terms)
        {
            if (string.IsNullOrWhiteSpace(term) || term.Length > 200 || term.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"The contrast term '{term}' is not usable: each term is non-blank text of at most 200 characters, such as \"Lifetime ISA|LISA\".", name);
            }
        }

        return terms;
    }

    /// <summary>An embedding of the configured dimension whose components are finite and not all zero.</summary>
    public static ReadOnlyMemory<float> Embedding(ReadOnlyMemory<float> embedding, int dimensions,
        [CallerArgumentExpression(nameof(embedding))] string name = "")
    {
        if (embedding.Length != dimensions)
        {
            throw new ArgumentException(
                $"The embedding has {embedding.Length} dimensions; the cache is configured for {dimensions}. " +
                "Embed with the configured model, or set QueryCacheOptions.Dimensions (and migrate with QUERYCACHE_DIMENSIONS) to your model's size.",
                name);
        }

        return VectorProblem(embedding.Span) is { } problem ? throw new ArgumentException(problem, name) : embedding;
    }

    /// <summary>Why a vector has no direction to compare (a NaN or infinite component, all zeros), or null when it has one.</summary>
    public static string? VectorProblem(ReadOnlySpan<float> vector)
    {
        var allZero = true;
        for (var i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                return $"The embedding holds {vector[i]} at index {i}; every component must be a finite number. Check the embedding model's output.";
            }

            allZero &= vector[i] == 0;
        }

        return allZero ? "The embedding is all zeros and has no direction to compare; pass the vector the embedding model returned." : null;
    }

    private static string NoNul(string value, string what, string name) => value.Contains('\0', StringComparison.Ordinal)
        ? throw new ArgumentException($"The {what} contains a NUL character, which PostgreSQL text cannot store; remove it.", name)
        : value;
}
