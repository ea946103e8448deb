namespace QueryCache.Internal;

/// <summary>Npgsql reads <c>timestamptz</c> as a UTC <see cref="DateTime"/>; the public records carry <see cref="DateTimeOffset"/>.</summary>
internal static class DatabaseTime
{
    public static DateTimeOffset? ToOffset(DateTime? value) =>
        value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
