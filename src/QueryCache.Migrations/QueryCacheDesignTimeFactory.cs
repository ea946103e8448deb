using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using QueryCache.Data;

namespace QueryCache.Migrations;

/// <summary>
/// Used by <c>dotnet ef</c>: the connection string comes from <c>QUERYCACHE_CONNECTION</c> and the embedding
/// dimension from <c>QUERYCACHE_DIMENSIONS</c> (default 1536).
/// </summary>
public sealed class QueryCacheDesignTimeFactory : IDesignTimeDbContextFactory<QueryCacheDbContext>
{
    public const string ConnectionVariable = "QUERYCACHE_CONNECTION";
    public const string DimensionsVariable = "QUERYCACHE_DIMENSIONS";

    public QueryCacheDbContext CreateDbContext(string[] args)
    {
        // `migrations add` and `migrations script` never connect, so a placeholder is enough for them.
        var connectionString = Environment.GetEnvironmentVariable(ConnectionVariable)
            ?? "Host=127.0.0.1;Database=set_QUERYCACHE_CONNECTION";
        var dimensionsText = Environment.GetEnvironmentVariable(DimensionsVariable);
        var dimensions = QueryCacheSchema.DefaultDimensions;
        if (!string.IsNullOrWhiteSpace(dimensionsText)
            && !int.TryParse(dimensionsText, NumberStyles.None, CultureInfo.InvariantCulture, out dimensions))
        {
            throw new InvalidOperationException(
                $"{DimensionsVariable}='{dimensionsText}' is not a whole number; set it to your embedding model's output size, for example 1536.");
        }

        var builder = QueryCacheDbContext.Configure(new DbContextOptionsBuilder<QueryCacheDbContext>(), connectionString, dimensions);
        return new QueryCacheDbContext(builder.Options);
    }
}
