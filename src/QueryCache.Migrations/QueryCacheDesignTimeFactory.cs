using Microsoft.EntityFrameworkCore.Design;
using QueryCache.Data;

namespace QueryCache.Migrations;

/// <summary>
/// Used by <c>dotnet ef</c>: the connection string comes from <c>QUERYCACHE_CONNECTION</c>, the embedding dimension
/// from <c>QUERYCACHE_DIMENSIONS</c> (default 1536) and its precision from <c>QUERYCACHE_PRECISION</c> (default Half).
/// </summary>
internal sealed class QueryCacheDesignTimeFactory : IDesignTimeDbContextFactory<QueryCacheDbContext>
{
    public QueryCacheDbContext CreateDbContext(string[] args)
    {
        var settings = MigrationSettings.FromProcessEnvironment();
        // `migrations add` and `migrations script` never connect, so a placeholder is enough for them.
        var connectionString = settings.ConnectionString ?? "Host=127.0.0.1;Database=set_QUERYCACHE_CONNECTION";
        return QueryCacheDbContext.Create(connectionString, settings.Dimensions, settings.Precision);
    }
}
