using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace QueryCache.Bench;

/// <summary>
/// What row-level security costs a lookup: the service's lookups through a login role made by query_cache_grant_to, with
/// row-level security off and on, in rounds over one table that alternate which goes first (the machine's noise falls on
/// both alike).
/// </summary>
internal static class SecurityRun
{
    private const string Database = "querycache_bench_security";
    private const string Role = "querycache_bench_app";
    private const int Rounds = 4;

    public static async Task<Dictionary<string, object>> RunAsync(BenchSettings settings, int entries)
    {
        var figures = new Dictionary<string, object> { ["entries"] = entries, ["rounds"] = Rounds };
        var data = Data.Generate(entries, settings.Dimensions, settings.Queries);
        var owner = await BenchDatabase.CreateLoadedAsync(settings, Database, data, entries);

        await using var admin = new NpgsqlConnection(owner);
        // The role's name is the benchmark's own constant: CREATE ROLE takes no parameters.
        await admin.ExecuteAsync($"DROP ROLE IF EXISTS {Role}; CREATE ROLE {Role} LOGIN PASSWORD 'bench'");
        try
        {
            await admin.ExecuteAsync("SELECT askwealth.query_cache_grant_to(@Role)", new { Role });
            var app = new NpgsqlConnectionStringBuilder(owner) { Username = Role, Password = "bench" }.ConnectionString;
            var latencies = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
            var hits = new Dictionary<bool, int> { [false] = 0, [true] = 0 };
            await using (var provider = BenchDatabase.Services(settings, app, _ => { }))
            {
                var cache = provider.GetRequiredService<QueryCacheService>();
                for (var round = 0; round < Rounds; round++)
                {
                    // Off first in even rounds, on first in odd ones: neither side always runs on a cache the other warmed.
                    foreach (var rls in round % 2 == 0 ? new[] { false, true } : new[] { true, false })
                    {
                        await admin.ExecuteAsync(rls
                            ? "SELECT askwealth.query_cache_enable_row_level_security()"
                            : "SELECT askwealth.query_cache_disable_row_level_security()");
                        foreach (var query in data.Queries.Take(50))
                        {
                            await cache.CheckCacheAsync(query.Vector, new CacheScope(data.Tenants[query.Tenant]));
                        }

                        foreach (var query in data.Queries)
                        {
                            CacheHit? hit = null;
                            latencies[rls].Add(await Measure.TimeAsync(async () =>
                                hit = await cache.CheckCacheAsync(query.Vector, new CacheScope(data.Tenants[query.Tenant]))));
                            hits[rls] += hit is null ? 0 : 1;
                        }
                    }
                }
            }

            foreach (var (rls, name) in new[] { (false, "off"), (true, "on") })
            {
                figures[$"rls_{name}_lookup_p50_ms"] = Measure.Percentile(latencies[rls], 50);
                figures[$"rls_{name}_lookup_p99_ms"] = Measure.Percentile(latencies[rls], 99);
                figures[$"rls_{name}_hits"] = hits[rls];
            }

            var ratio = Math.Round((double)figures["rls_on_lookup_p50_ms"] / (double)figures["rls_off_lookup_p50_ms"], 3);
            figures["rls_on_over_off_p50"] = ratio;
            figures["target_rls_within_10_percent"] = ratio <= 1.10 && hits[true] == hits[false] ? "met" : "NOT MET";
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            if (!settings.Keep)
            {
                // The role's grants go with the database; then the role itself can go.
                await BenchDatabase.DropAsync(settings, Database);
                await using var server = new NpgsqlConnection(BenchDatabase.ServerConnectionString(settings));
                await server.ExecuteAsync($"DROP ROLE IF EXISTS {Role}");
            }
        }

        return figures;
    }
}
