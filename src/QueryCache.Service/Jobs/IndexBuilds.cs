using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>
/// Builds of the HNSW graphs, all <c>CONCURRENTLY</c> (lookups and stores go on) and with
/// <see cref="QueryCacheJobOptions.IndexBuildMemory"/>: a tenant's own graph, built or dropped on request, and the
/// cleanup's rebuild of every graph.
/// </summary>
internal sealed class IndexBuilds(CacheDataSource database, IOptions<QueryCacheJobOptions> options, IOptions<QueryCacheOptions> cacheOptions,
    TimeProvider timeProvider, ILogger<IndexBuilds> logger)
{
    private readonly QueryCacheJobOptions _options = options.Value;
    private readonly int _dimensions = cacheOptions.Value.Dimensions;

    public async Task<bool> BuildTenantGraphAsync(string tenantId, int? prefixDimensions, CancellationToken cancellationToken)
    {
        Check.TenantId(tenantId);
        if (prefixDimensions is { } prefix && (prefix < 1 || prefix >= _dimensions))
        {
            throw new ArgumentOutOfRangeException(nameof(prefixDimensions), prefix,
                $"A prefix graph is built on fewer dimensions than the embeddings' {_dimensions}: pass 1 to {_dimensions - 1} "
                + "(256 or 512 for a model trained to be truncated, such as text-embedding-3), or null for a graph of all of them.");
        }

        using var connection = database.Primary.CreateConnection();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await HasTenantGraphAsync(connection, tenantId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        // An interrupted build leaves an invalid index of the same name behind.
        await ExecuteGraphStatementAsync(connection, tenantId, build: false, prefixDimensions: null, cancellationToken).ConfigureAwait(false);
        var started = timeProvider.GetTimestamp();
        await WithBuildMemoryAsync(connection, ct => ExecuteGraphStatementAsync(connection, tenantId, build: true, prefixDimensions, ct), cancellationToken)
            .ConfigureAwait(false);
        Log.TenantGraphBuilt(logger, tenantId, timeProvider.GetElapsedTime(started).TotalSeconds);
        return true;
    }

    public async Task<bool> DropTenantGraphAsync(string tenantId, CancellationToken cancellationToken)
    {
        Check.TenantId(tenantId);
        using var connection = database.Primary.CreateConnection();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var had = await HasTenantGraphAsync(connection, tenantId, cancellationToken).ConfigureAwait(false);
        await ExecuteGraphStatementAsync(connection, tenantId, build: false, prefixDimensions: null, cancellationToken).ConfigureAwait(false);
        return had;
    }

    /// <summary>Rebuilds every graph, after dropping what an interrupted rebuild left behind.</summary>
    public async Task RebuildGraphsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var drop in await connection.QueryAsync<string>(new CommandDefinition(CacheStatements.DropInterruptedRebuilds,
                     cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            await connection.ExecuteAsync(new CommandDefinition(drop, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        var started = timeProvider.GetTimestamp();
        await WithBuildMemoryAsync(connection, async ct =>
        {
            foreach (var reindex in await connection.QueryAsync<string>(new CommandDefinition(CacheStatements.ReindexGraphs,
                         cancellationToken: ct)).ConfigureAwait(false))
            {
                await connection.ExecuteAsync(new CommandDefinition(reindex, commandTimeout: 0, cancellationToken: ct)).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
        Log.IndexRebuilt(logger, timeProvider.GetElapsedTime(started).TotalSeconds);
    }

    private static Task<bool> HasTenantGraphAsync(NpgsqlConnection connection, string tenantId, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.HasTenantGraph, new { TenantId = tenantId }, cancellationToken: ct));

    private static async Task ExecuteGraphStatementAsync(NpgsqlConnection connection, string tenantId, bool build, int? prefixDimensions,
        CancellationToken ct)
    {
        var statement = await connection.ExecuteScalarAsync<string>(new CommandDefinition(CacheStatements.TenantGraphStatement,
            new { TenantId = tenantId, Build = build, PrefixDimensions = prefixDimensions }, cancellationToken: ct)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(statement!, commandTimeout: 0, cancellationToken: ct)).ConfigureAwait(false);
    }

    private async Task WithBuildMemoryAsync(NpgsqlConnection connection, Func<CancellationToken, Task> build, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(_options.IndexBuildMemory))
        {
            await connection.ExecuteAsync(new CommandDefinition(CacheStatements.SetMaintenanceMemory, new { Memory = _options.IndexBuildMemory },
                cancellationToken: ct)).ConfigureAwait(false);
        }

        try
        {
            await build(ct).ConfigureAwait(false);
        }
        finally
        {
            // The connection goes back to the pool without a reset: leave no session setting behind.
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await connection.ExecuteAsync(CacheStatements.ResetMaintenanceMemory).ConfigureAwait(false);
            }
        }
    }
}
