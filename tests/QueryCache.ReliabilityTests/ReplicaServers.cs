using Dapper;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>
/// A primary and a real streaming standby of it on loopback (<c>eng/db.sh standby start</c>: <c>pg_basebackup -R</c>),
/// in a folder of their own so the shared server is never disturbed. The test database is created and migrated on the
/// primary and reaches the standby by replication.
/// </summary>
public sealed class ReplicaServers : IAsyncLifetime
{
    private const string DatabaseName = "replica";
    private readonly string _root = FaultServer.FindRoot();
    private readonly string _folder;

    public ReplicaServers() => _folder = Path.Combine(_root, ".local", "pg-replica");

    public string PrimaryConnectionString { get; private set; } = "";

    public string StandbyConnectionString { get; private set; } = "";

    /// <summary>The standby's server log, where a write it refused would be reported.</summary>
    public string StandbyLog => Path.Combine(_folder, "standby.log");

    public async Task InitializeAsync()
    {
        PrimaryConnectionString = await DatabaseFixture.RecreateDatabaseAsync((await DbAsync("start")).Trim(), DatabaseName);
        await DatabaseFixture.MigrateAppDatabaseAsync(PrimaryConnectionString);
        await StartStandbyAsync();
    }

    /// <summary>Starts the standby (cloning the primary the first time) and waits until it has replayed the migrations.</summary>
    public async Task StartStandbyAsync()
    {
        var standby = (await DbAsync("standby", "start")).Trim();
        StandbyConnectionString = new NpgsqlConnectionStringBuilder(standby) { Database = DatabaseName, Pooling = false }.ConnectionString;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await using var connection = new NpgsqlConnection(StandbyConnectionString);
                return await connection.ExecuteScalarAsync<bool>($"""
                    SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM askwealth."{QueryCacheSchema.MigrationsHistoryTable}"
                                                           WHERE "MigrationId" = @Latest)
                    """, new { Latest = QueryCacheSchema.LatestMigration });
            }
            catch (PostgresException)
            {
                return false;
            }
        });
        StandbyConnectionString = new NpgsqlConnectionStringBuilder(StandbyConnectionString) { Pooling = true }.ConnectionString;
    }

    public Task StopStandbyAsync() => DbAsync("standby", "stop");

    /// <summary>Empties the cache on the primary and waits until the standby has it empty too.</summary>
    public async Task ResetAsync()
    {
        await using (var primary = new NpgsqlConnection(PrimaryConnectionString))
        {
            await primary.ExecuteAsync("""
                DELETE FROM askwealth.query_cache_embeddings;
                DELETE FROM askwealth.query_cache_config WHERE tenant_id IS NOT NULL;
                """);
        }

        await Eventually.TrueAsync(async () =>
        {
            await using var standby = new NpgsqlConnection(StandbyConnectionString);
            return await standby.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings") == 0;
        });
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await DbAsync("stop");
    }

    private Task<string> DbAsync(params string[] verb) => FaultServer.RunDbScriptAsync(_root, _folder, verb);
}

[CollectionDefinition(Name)]
public sealed class ReplicaServerTests : ICollectionFixture<ReplicaServers>
{
    public const string Name = "primary and standby";
}
