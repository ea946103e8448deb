using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>Database reachable, <c>vector</c> extension present, schema at the latest migration with the configured dimension.</summary>
internal sealed class QueryCacheHealthCheck(CacheDataSource database, IOptions<QueryCacheOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var latest = QueryCacheSchema.LatestMigration;
        try
        {
            using var connection = database.Primary.CreateConnection();
            var probe = await connection.QuerySingleAsync<Probe>(new CommandDefinition(CacheStatements.HealthProbe, cancellationToken: cancellationToken))
                .ConfigureAwait(false);
            if (probe.VectorVersion is null)
            {
                return HealthCheckResult.Unhealthy("The vector extension is not installed; apply the QueryCache migrations (dotnet ef database update).");
            }

            var migrated = probe.HasHistory && await connection.QuerySingleAsync<bool>(
                new CommandDefinition(CacheStatements.MigrationApplied, new { Latest = latest }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (!migrated)
            {
                return HealthCheckResult.Unhealthy($"The database has not reached migration {latest}; apply the QueryCache migrations.");
            }

            if (probe.Dimensions != options.Value.Dimensions)
            {
                return HealthCheckResult.Unhealthy(
                    $"The embedding column stores {probe.Dimensions} dimensions but QueryCacheOptions.Dimensions is {options.Value.Dimensions}; make them match.");
            }

            return HealthCheckResult.Healthy($"pgvector {probe.VectorVersion}, schema at {latest}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The cache database cannot be reached.", ex);
        }
    }

    private sealed record Probe(string? VectorVersion, bool HasHistory, int? Dimensions);
}
