using QueryCache.Data;

namespace QueryCache.Internal;

/// <summary>Argument checks shared by the public methods; each message says what was wrong and how to fix it.</summary>
internal static class Guard
{
    public static void Scope(CacheScope scope, string paramName)
    {
        ArgumentNullException.ThrowIfNull(scope, paramName);
        Identifier(scope.TenantId, paramName + ".TenantId", "tenant id");
        if (scope.UserId is not null)
        {
            Identifier(scope.UserId, paramName + ".UserId", "user id");
        }
    }

    public static void TenantId(string tenantId, string paramName) => Identifier(tenantId, paramName, "tenant id");

    public static void Identifier(string? value, string paramName, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"The {what} is empty; pass the {what} of the request (any non-blank text).", paramName);
        }

        if (value.Length > QueryCacheSchema.MaxScopeIdLength)
        {
            throw new ArgumentException(
                $"The {what} is {value.Length} characters long; at most {QueryCacheSchema.MaxScopeIdLength} are allowed. Use a stable id, not free text.", paramName);
        }

        NoNul(value, paramName, what);
    }

    public static void Text(string? value, string paramName, string what, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"The {what} is empty; only answered questions with text belong in the cache.", paramName);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException(
                $"The {what} is {value.Length} characters long; at most {maxLength} are cached. Skip caching it, or shorten it first.", paramName);
        }

        NoNul(value, paramName, what);
    }

    public static void Threshold(double? threshold, string paramName)
    {
        if (threshold is { } t && !(t is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(paramName, threshold,
                "The similarity threshold is a cosine similarity from 0 to 1 (for example 0.85); higher means stricter matching.");
        }
    }

    public static void Embedding(ReadOnlySpan<float> embedding, int dimensions, string paramName)
    {
        if (embedding.Length != dimensions)
        {
            throw new ArgumentException(
                $"The embedding has {embedding.Length} dimensions; the cache is configured for {dimensions}. " +
                "Embed with the configured model, or set QueryCacheOptions.Dimensions (and migrate with QUERYCACHE_DIMENSIONS) to your model's size.",
                paramName);
        }

        var allZero = true;
        for (var i = 0; i < embedding.Length; i++)
        {
            var value = embedding[i];
            if (!float.IsFinite(value))
            {
                throw new ArgumentException(
                    $"The embedding holds {value} at index {i}; every component must be a finite number. Check the embedding model's output.", paramName);
            }

            allZero &= value == 0;
        }

        if (allZero)
        {
            throw new ArgumentException(
                "The embedding is all zeros and has no direction to compare; pass the vector the embedding model returned.", paramName);
        }
    }

    private static void NoNul(string value, string paramName, string what)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The {what} contains a NUL character, which PostgreSQL text cannot store; remove it.", paramName);
        }
    }
}
