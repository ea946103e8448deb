using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using static QueryCache.Data.QueryCacheSchema;

namespace QueryCache.Internal;

/// <summary>Database reachable, <c>vector</c> extension present, schema at the latest migration with the configured dimension.</summary>
internal sealed class QueryCacheHealthCheck(QueryCacheDataSource dataSource, IOptions<QueryCacheOptions> options) : IHealthCheck
{
    private const string ProbeSql = $"""
        SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS "VectorVersion",
               (SELECT to_regclass('{Schema}.{MigrationsHistoryTable}') IS NOT NULL) AS "HasHistory",
               (SELECT atttypmod FROM pg_attribute
                WHERE attrelid = to_regclass('{Schema}.{EmbeddingsTable}') AND attname = 'embedding') AS "Dimensions"
        """;

    private const string MigrationSql =
        $"""SELECT EXISTS (SELECT 1 FROM {Schema}."{MigrationsHistoryTable}" WHERE "MigrationId" = @Latest)""";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var connection = dataSource.DataSource.CreateConnection();
            var probe = await connection.QuerySingleAsync<Probe>(new CommandDefinition(ProbeSql, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (probe.VectorVersion is null)
            {
                return HealthCheckResult.Unhealthy("The vector extension is not installed; apply the QueryCache migrations (dotnet ef database update).");
            }

            var migrated = probe.HasHistory && await connection.QuerySingleAsync<bool>(
                new CommandDefinition(MigrationSql, new { Latest = LatestMigration }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (!migrated)
            {
                return HealthCheckResult.Unhealthy($"The database has not reached migration {LatestMigration}; apply the QueryCache migrations.");
            }

            if (probe.Dimensions != options.Value.Dimensions)
            {
                return HealthCheckResult.Unhealthy(
                    $"The embedding column stores {probe.Dimensions} dimensions but QueryCacheOptions.Dimensions is {options.Value.Dimensions}; make them match.");
            }

            return HealthCheckResult.Healthy($"pgvector {probe.VectorVersion}, schema at {LatestMigration}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The cache database cannot be reached.", ex);
        }
    }

    private sealed record Probe(string? VectorVersion, bool HasHistory, int? Dimensions);
}
