using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pgvector;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Bench;

internal sealed record BenchSettings(string Server, int Dimensions, int Queries, EmbeddingPrecision Precision, int EfSearch,
    HitRecordingMode HitRecording, bool Vacuum, bool Keep, int? EfConstruction = null, int? M = null, bool TenantGraph = false,
    int? TenantGraphPrefix = null);

/// <summary>A done-when target and what this run measured for it.</summary>
internal sealed record Check(string Target, bool Met, string Measured);

internal sealed record SizeResult(Dictionary<string, object> Figures, List<Check> Checks);

/// <summary>Every figure for one table size, measured in one run on one table.</summary>
internal sealed partial class SizeRun
{
    private const string Model = BenchDatabase.Model;
    private const double Threshold = QueryCacheSchema.DefaultSimilarityThreshold;
    private const string Embeddings = BenchDatabase.Embeddings;
    private const string VectorIndex = BenchDatabase.VectorIndex;

    private readonly BenchSettings _settings;
    private readonly int _size;
    private readonly Data _data;
    private readonly Dictionary<string, object> _figures = [];
    private string _connectionString = "";
    private NpgsqlDataSource? _dataSource;

    private NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Load first.");

    private SizeRun(BenchSettings settings, int size)
    {
        _settings = settings;
        _size = size;
        _data = Data.Generate(size, settings.Dimensions, settings.Queries);
        if (settings.Precision == EmbeddingPrecision.Half)
        {
            // Exact answers are computed on what the database compares: the vectors as halfvec stores them.
            _data.RoundToHalf();
        }
    }

    public static async Task<SizeResult> RunAsync(BenchSettings settings, int size, CancellationToken ct)
    {
        var run = new SizeRun(settings, size);
        run._figures["entries"] = size;
        await run.LoadAsync();
        var exact = run._data.ExactAnswers();
        var (provider, cache) = run.CreateCache(backgroundIndexing: true, asynchronousCommit: true);
        await using (run.DataSource)
        await using (provider)
        {
            if (settings.TenantGraph)
            {
                await run.BuildTenantGraphAsync(cache);
            }

            await run.LookupsAsync(cache, exact);
            await run.StoresAsync();
            await run.EvictionAsync(cache);
        }

        if (!settings.Keep)
        {
            await BenchDatabase.DropAsync(settings, run.DatabaseName);
        }

        return new SizeResult(run._figures, run.Checks());
    }

    private string DatabaseName => $"querycache_bench_{_size}";

    private async Task LoadAsync()
    {
        _connectionString = await BenchDatabase.CreateAsync(_settings, DatabaseName);
        _dataSource = BenchDatabase.DataSource(_connectionString);
        await using var connection = await DataSource.OpenConnectionAsync();
        var (copy, indexBuild) = await BenchDatabase.LoadAsync(connection, _data, _size, _settings.EfConstruction, _settings.M);
        _figures["index_ef_construction"] = _settings.EfConstruction ?? QueryCacheSchema.HnswEfConstruction;
        _figures["index_m"] = _settings.M ?? QueryCacheSchema.HnswM;
        _figures["load_entries_per_s"] = Math.Round(_size / copy.TotalSeconds);
        _figures["index_build_s"] = Math.Round(indexBuild.TotalSeconds, 1);
        var storage = await connection.QuerySingleAsync<(long Heap, long Toast, long Hnsw, long Indexes, long Side)>($"""
            SELECT pg_relation_size('{Embeddings}'), pg_table_size('{Embeddings}') - pg_relation_size('{Embeddings}'),
                   pg_relation_size('{VectorIndex}'), pg_indexes_size('{Embeddings}'),
                   pg_total_relation_size('askwealth.query_cache_hits') + pg_total_relation_size('askwealth.query_cache_tenant_sizes')
            """);
        _figures["storage_total_bytes_per_entry"] = (storage.Heap + storage.Toast + storage.Indexes + storage.Side) / _size;
        _figures["storage_heap_bytes_per_entry"] = storage.Heap / _size;
        _figures["storage_toast_bytes_per_entry"] = storage.Toast / _size;
        _figures["storage_hnsw_bytes_per_entry"] = storage.Hnsw / _size;
        _figures["storage_btrees_bytes_per_entry"] = (storage.Indexes - storage.Hnsw) / _size;
    }

    /// <summary>The large tenant's own graph: its build time and size.</summary>
    private async Task BuildTenantGraphAsync(QueryCacheService cache)
    {
        var tenant = _data.Tenants[Data.LargeTenant];
        var build = Stopwatch.StartNew();
        await cache.BuildTenantGraphAsync(tenant, _settings.TenantGraphPrefix);
        _figures["tenant_graph_dimensions"] = _settings.TenantGraphPrefix ?? _settings.Dimensions;
        _figures["tenant_graph_build_s"] = Math.Round(build.Elapsed.TotalSeconds, 1);
        await using var connection = await DataSource.OpenConnectionAsync();
        _figures["storage_tenant_graph_bytes_per_tenant_entry"] = await connection.ExecuteScalarAsync<long>(
            $"SELECT pg_relation_size(askwealth.{QueryCacheSchema.Functions.TenantGraph}(@Tenant)) / count(*) FROM {Embeddings} WHERE tenant_id = @Tenant",
            new { Tenant = tenant });
    }

    private (ServiceProvider Provider, QueryCacheService Cache) CreateCache(bool backgroundIndexing, bool asynchronousCommit)
    {
        var provider = BenchDatabase.Services(_settings, _connectionString, o =>
            {
                o.BackgroundIndexing = backgroundIndexing;
                o.AsynchronousCommit = asynchronousCommit;
            },
            // The cleanup's own VACUUM is what the eviction rounds time, separately.
            services => services.Configure<QueryCacheJobOptions>(o => o.VacuumAfterDeletedEntries = 0));
        return (provider, provider.GetRequiredService<QueryCacheService>());
    }

    /// <summary>Stores one at a time in each combination of the two options, then how long the background indexing took to catch up.</summary>
    private async Task StoresAsync()
    {
        var rng = new Random(7);
        foreach (var (background, asynchronous) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var (provider, cache) = CreateCache(background, asynchronous);
            await using (provider)
            {
                var times = new List<double>();
                for (var i = 0; i < 100; i++)
                {
                    var entry = new CacheEntry
                    {
                        Scope = new CacheScope(_data.Tenants[i % 2 == 0 ? Data.LargeTenant : 1 + rng.Next(_data.Tenants.Length - 1)]),
                        QueryText = $"stored {background} {asynchronous} {i}",
                        Answer = "a",
                        Embedding = Vectors.Random(rng, _settings.Dimensions),
                    };
                    times.Add(await Measure.TimeAsync(() => cache.AddToCacheAsync(entry)));
                }

                var name = $"store_{(background ? "background_index" : "inline_index")}_{(asynchronous ? "async" : "sync")}_commit_p50_ms";
                _figures[name] = Measure.Percentile(times, 50);
                var watch = Stopwatch.StartNew();
                await using var connection = await DataSource.OpenConnectionAsync();
                while (await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {Embeddings} WHERE NOT indexed") > 0)
                {
                    await Task.Delay(20);
                }

                if (background)
                {
                    _figures[$"index_catch_up_100_stores_{(asynchronous ? "async" : "sync")}_commit_s"] = Math.Round(watch.Elapsed.TotalSeconds, 2);
                }
            }
        }
    }

    /// <summary>
    /// Evicts 10% with the cleanup job's function while lookups run and times the VACUUM that follows (pgvector repairs
    /// the graph around every deleted entry); then evicts another 10% and times the alternative, rebuilding the index
    /// concurrently first so that the VACUUM has nothing to repair.
    /// </summary>
    private async Task EvictionAsync(QueryCacheService cache)
    {
        foreach (var round in new[] { "vacuum", "reindex" })
        {
            var total = await ScalarAsync($"SELECT count(*) FROM {Embeddings}");
            await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = (int)(total - (total / 10)) });
            var (during, cleanup) = await WhileLookingUpAsync(cache, async () => (await cache.CleanupAsync()).Processed);
            _figures[$"{round}_round_evicted"] = cleanup.Result;
            _figures[$"{round}_round_cleanup_s"] = cleanup.Seconds;
            _figures[$"{round}_round_lookup_during_cleanup_p50_ms"] = Measure.Percentile(during, 50);
            if (!_settings.Vacuum)
            {
                return;
            }

            var (duringMaintenance, maintenance) = await WhileLookingUpAsync(cache, async () =>
            {
                await using var connection = await DataSource.OpenConnectionAsync();
                if (round == "reindex")
                {
                    // Separate statements: REINDEX CONCURRENTLY cannot run in the implicit transaction of a batch.
                    await connection.ExecuteAsync("SET maintenance_work_mem = '2GB'");
                    await connection.ExecuteAsync($"REINDEX INDEX CONCURRENTLY {VectorIndex}", commandTimeout: 0);
                }

                await connection.ExecuteAsync($"VACUUM (ANALYZE) {Embeddings}", commandTimeout: 0);
                return 0L;
            });
            _figures[$"{round}_round_maintenance_s"] = maintenance.Seconds;
            _figures[$"{round}_round_lookup_during_maintenance_p50_ms"] = Measure.Percentile(duringMaintenance, 50);
        }
    }

    private async Task<(List<double> Lookups, (T Result, double Seconds) Work)> WhileLookingUpAsync<T>(QueryCacheService cache, Func<Task<T>> work)
    {
        using var stop = new CancellationTokenSource();
        var during = new List<double>();
        var lookups = Task.Run(async () =>
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                var q = _data.Queries[k % _data.Queries.Count];
                during.Add(await Measure.TimeAsync(() => cache.CheckCacheAsync(q.Vector, new CacheScope(_data.Tenants[q.Tenant]))));
            }
        });
        var watch = Stopwatch.StartNew();
        var result = await work();
        var seconds = Math.Round(watch.Elapsed.TotalSeconds, 1);
        await stop.CancelAsync();
        await lookups;
        return (during, (result, seconds));
    }

    private List<Check> Checks()
    {
        double F(string key) => Convert.ToDouble(_figures[key], CultureInfo.InvariantCulture);
        string Ms(string key) => F(key).ToString("0.##", CultureInfo.InvariantCulture);
        return
        [
            new("function p50 <= 1.15x raw at its ef_search, large tenant", F("ratio_function_large_over_raw_ef_own") <= 1.15,
                $"{Ms("function_large_c1_p50_ms")} ms / {Ms("raw_ef_own_c1_p50_ms")} ms = {F("ratio_function_large_over_raw_ef_own")}x"),
            new("function p50 <= 1.15x raw at its ef_search, 1% tenants", F("ratio_function_small_over_raw_ef_own") <= 1.15,
                $"{Ms("function_small_c1_p50_ms")} ms / {Ms("raw_ef_own_c1_p50_ms")} ms = {F("ratio_function_small_over_raw_ef_own")}x"),
            new("function p50 <= 1.5x raw at ef_search 40, every class",
                F("ratio_function_large_over_raw_ef40") <= 1.5 && F("ratio_function_small_over_raw_ef40") <= 1.5,
                $"large {F("ratio_function_large_over_raw_ef40")}x, 1% tenants {F("ratio_function_small_over_raw_ef40")}x of {Ms("raw_ef40_c1_p50_ms")} ms"),
            new("function c4 throughput >= 0.9x raw at its ef_search", F("ratio_function_c4_throughput_over_raw") >= 0.9,
                $"{F("function_c4_per_s")}/s vs {F("raw_ef_own_c4_per_s")}/s = {F("ratio_function_c4_throughput_over_raw")}"),
            new("decision agreement >= 99.5% in the hard band, every class",
                F("agreement_large_hard_band_pct") >= 99.5 && F("agreement_small_hard_band_pct") >= 99.5,
                $"large {F("agreement_large_hard_band_pct")}%, 1% tenants {F("agreement_small_hard_band_pct")}% ({F("hard_band_queries")} queries)"),
            new("store p50 <= 5 ms (defaults)", F("store_background_index_async_commit_p50_ms") <= 5, $"{Ms("store_background_index_async_commit_p50_ms")} ms"),
            new("<= 8 KB per entry in all", F("storage_total_bytes_per_entry") <= 8192, $"{F("storage_total_bytes_per_entry")} B"),
        ];
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }
}
