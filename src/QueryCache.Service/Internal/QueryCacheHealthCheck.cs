using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>
/// Database reachable, <c>vector</c> extension present, schema at the latest migration with the configured dimension;
/// with a read replica, degraded while it cannot be reached or is further behind than the cache accepts (lookups then
/// read the primary).
/// </summary>
internal sealed class QueryCacheHealthCheck(CacheDataSource database, StandbyLag standbyLag, IOptions<QueryCacheOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var latest = QueryCacheSchema.LatestMigration;
        Probe probe;
        try
        {
            using var connection = database.Primary.CreateConnection();
            probe = await connection.QuerySingleAsync<Probe>(new CommandDefinition(CacheStatements.HealthProbe, cancellationToken: cancellationToken))
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

        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The cache database cannot be reached.", ex);
        }

        var healthy = $"pgvector {probe.VectorVersion}, schema at {latest}.";
        return database.Standby is null ? HealthCheckResult.Healthy(healthy) : CheckStandby(healthy);
    }

    private HealthCheckResult CheckStandby(string healthy) => standbyLag.Current switch
    {
        null => HealthCheckResult.Degraded($"{healthy} The read replica cannot be reached or does not follow the primary; lookups read the primary."),
        { } lag when lag > options.Value.MaxStandbyLag =>
            HealthCheckResult.Degraded($"{healthy} The read replica is {lag.TotalSeconds:0} s behind; lookups read the primary until it catches up."),
        { } lag => HealthCheckResult.Healthy($"{healthy} The read replica is {lag.TotalSeconds:0} s behind."),
    };

    private sealed record Probe(string? VectorVersion, bool HasHistory, int? Dimensions);
}
