using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pgvector;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Bench;

internal sealed record BenchSettings(string Server, int Dimensions, int Queries, EmbeddingPrecision Precision, int EfSearch,
    HitRecordingMode HitRecording, bool Vacuum, bool Keep);

/// <summary>A done-when target and what this run measured for it.</summary>
internal sealed record Check(string Target, bool Met, string Measured);

internal sealed record SizeResult(Dictionary<string, object> Figures, List<Check> Checks);

/// <summary>Every figure for one table size, measured in one run on one table.</summary>
internal sealed class SizeRun
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
        var (copy, indexBuild) = await BenchDatabase.LoadAsync(connection, _data, _size);
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

    private async Task LookupsAsync(QueryCacheService cache, (int Entry, double Similarity)[] exact)
    {
        var queries = _data.Queries;
        _figures["hard_band_queries_pct"] = Math.Round(100.0 * queries.Count(q => q.Kind != QueryKind.FarMiss) / queries.Count, 1);
        _figures["exact_hits"] = exact.Count(e => e.Similarity >= Threshold);

        // The floor: the same index walked with the same ef_search, no tenant, no model, no expiry, no function.
        var floorWorker = PreparedWorker($"""
            SELECT id FROM {Embeddings} WHERE indexed
            ORDER BY embedding <=> $1::{QueryCacheSchema.VectorType(_settings.Precision)}({_settings.Dimensions}) LIMIT 1
            """, withTenant: false);
        // The lookup function alone (prepared, no service): what the database spends beyond the floor.
        var functionWorker = PreparedWorker($"SELECT entry_id FROM askwealth.{QueryCacheSchema.Functions.Nearest}($1, $2, NULL, '{Model}')", withTenant: true);
        Task<(Func<int, Task> Run, IAsyncDisposable Resources)> ServiceWorker() => Task.FromResult<(Func<int, Task>, IAsyncDisposable)>(
            (k => cache.CheckCacheAsync(queries[k % queries.Count].Vector, new CacheScope(_data.Tenants[queries[k % queries.Count].Tenant])),
                NoResources.Instance));

        // Warm: every query once through each, so all read from shared buffers.
        foreach (var worker in new[] { floorWorker, functionWorker, ServiceWorker })
        {
            await Measure.ConcurrentAsync(1, queries.Count, worker);
        }

        // Concurrency 1: each query through the floor, the function and the service in turn, the first of them rotating,
        // so the machine's noise falls on all three alike. A hit's count is written before the next call, as it would be
        // in the gap between two requests; the concurrent runs below pay for the writes in full.
        var (floor, floorResources) = await floorWorker();
        var (function, functionResources) = await functionWorker();
        var rows = new List<(Data.Query Query, double Floor, double Function, double Service, bool Hit, bool Agree, bool? Top1)>();
        await using (floorResources)
        await using (functionResources)
        {
            for (var k = 0; k < queries.Count; k++)
            {
                var q = queries[k];
                double floorMs = 0, functionMs = 0, serviceMs = 0;
                CacheHit? hit = null;
                for (var step = 0; step < 3; step++)
                {
                    switch ((k + step) % 3)
                    {
                        case 0:
                            floorMs = await Measure.TimeAsync(() => floor(k));
                            break;
                        case 1:
                            functionMs = await Measure.TimeAsync(() => function(k));
                            break;
                        default:
                            serviceMs = await Measure.TimeAsync(async () => hit = await cache.CheckCacheAsync(q.Vector, new CacheScope(_data.Tenants[q.Tenant])));
                            await cache.FlushHitsAsync();
                            break;
                    }
                }

                var exactHit = exact[k].Similarity >= Threshold;
                rows.Add((q, floorMs, functionMs, serviceMs, hit is not null, (hit is not null) == exactHit,
                    exactHit ? hit?.EntryId == exact[k].Entry + 1 : null));
            }
        }

        var floorP50 = Measure.Percentile(rows.Select(r => r.Floor), 50);
        _figures["floor_c1_p50_ms"] = floorP50;
        _figures["floor_c1_p99_ms"] = Measure.Percentile(rows.Select(r => r.Floor), 99);
        foreach (var (name, filter) in new (string, Func<Data.Query, bool>)[] { ("large", q => q.Large), ("small", q => !q.Large), ("all", _ => true) })
        {
            var part = rows.Where(r => filter(r.Query)).ToList();
            _figures[$"lookup_{name}_c1_p50_ms"] = Measure.Percentile(part.Select(r => r.Service), 50);
            _figures[$"lookup_{name}_c1_p99_ms"] = Measure.Percentile(part.Select(r => r.Service), 99);
            _figures[$"function_{name}_c1_p50_ms"] = Measure.Percentile(part.Select(r => r.Function), 50);
            _figures[$"agreement_{name}_pct"] = Math.Round(100.0 * part.Count(r => r.Agree) / part.Count, 2);
        }

        _figures["agreement_hard_band_pct"] = Math.Round(100.0 * rows.Count(r => r.Query.Kind != QueryKind.FarMiss && r.Agree)
            / rows.Count(r => r.Query.Kind != QueryKind.FarMiss), 2);
        _figures["top1_agreement_pct"] = Math.Round(100.0 * rows.Count(r => r.Top1 == true) / Math.Max(1, rows.Count(r => r.Top1 is not null)), 2);
        _figures["hit_c1_p50_ms"] = Measure.Percentile(rows.Where(r => r.Hit).Select(r => r.Service), 50);
        _figures["miss_c1_p50_ms"] = Measure.Percentile(rows.Where(r => !r.Hit).Select(r => r.Service), 50);
        _figures["ratio_large_p50_over_floor"] = Ratio("lookup_large_c1_p50_ms", floorP50);
        _figures["ratio_small_p50_over_floor"] = Ratio("lookup_small_c1_p50_ms", floorP50);
        _figures["ratio_p99_over_floor_p50"] = Ratio("lookup_all_c1_p99_ms", floorP50);
        _figures["ratio_hit_over_miss_p50"] = Math.Round((double)_figures["hit_c1_p50_ms"] / (double)_figures["miss_c1_p50_ms"], 2);

        var (_, floorPerSecond) = await Measure.ConcurrentAsync(4, queries.Count * 2, floorWorker);
        var (_, servicePerSecond) = await Measure.ConcurrentAsync(4, queries.Count * 2, ServiceWorker);
        _figures["floor_c4_per_s"] = floorPerSecond;
        _figures["lookup_c4_per_s"] = servicePerSecond;
        _figures["ratio_c4_throughput_over_floor"] = Math.Round(servicePerSecond / floorPerSecond, 2);
    }

    /// <summary>A worker of its own connection and one prepared statement taking the query vector (and the query's tenant).</summary>
    private Func<Task<(Func<int, Task> Run, IAsyncDisposable Resources)>> PreparedWorker(string sql, bool withTenant) => async () =>
    {
        var queries = _data.Queries;
        var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync($"SET jit = off; SET hnsw.ef_search = {_settings.EfSearch}");
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { DataTypeName = "vector" });
        if (withTenant)
        {
            command.Parameters.Add(new NpgsqlParameter<string>());
        }

        await command.PrepareAsync();
        return (async k =>
        {
            var q = queries[k % queries.Count];
            command.Parameters[0].Value = new Vector(q.Vector);
            if (withTenant)
            {
                ((NpgsqlParameter<string>)command.Parameters[1]).TypedValue = _data.Tenants[q.Tenant];
            }

            await command.ExecuteScalarAsync();
        }, connection);
    };

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
            new("large tenant p50 <= 1.3x floor p50", F("ratio_large_p50_over_floor") <= 1.3,
                $"{Ms("lookup_large_c1_p50_ms")} ms / {Ms("floor_c1_p50_ms")} ms = {F("ratio_large_p50_over_floor")}x"),
            new("1% tenants p50 <= 1.3x floor p50", F("ratio_small_p50_over_floor") <= 1.3,
                $"{Ms("lookup_small_c1_p50_ms")} ms / {Ms("floor_c1_p50_ms")} ms = {F("ratio_small_p50_over_floor")}x"),
            new("p99 <= 3x floor p50", F("ratio_p99_over_floor_p50") <= 3, $"{Ms("lookup_all_c1_p99_ms")} ms = {F("ratio_p99_over_floor_p50")}x"),
            new("decision agreement >= 99.5% overall and per class",
                F("agreement_all_pct") >= 99.5 && F("agreement_large_pct") >= 99.5 && F("agreement_small_pct") >= 99.5,
                $"{F("agreement_all_pct")}% (large {F("agreement_large_pct")}%, 1% tenants {F("agreement_small_pct")}%)"),
            new("top-1 agreement >= 99%", F("top1_agreement_pct") >= 99, $"{F("top1_agreement_pct")}%"),
            new("c4 throughput >= 75% of the floor's", F("ratio_c4_throughput_over_floor") >= 0.75,
                $"{F("lookup_c4_per_s")}/s vs {F("floor_c4_per_s")}/s = {F("ratio_c4_throughput_over_floor")}"),
            new("hit p50 <= 1.2x miss p50", F("ratio_hit_over_miss_p50") <= 1.2,
                $"{Ms("hit_c1_p50_ms")} ms / {Ms("miss_c1_p50_ms")} ms = {F("ratio_hit_over_miss_p50")}x"),
            new("store p50 <= 5 ms (defaults)", F("store_background_index_async_commit_p50_ms") <= 5, $"{Ms("store_background_index_async_commit_p50_ms")} ms"),
            new("<= 8 KB per entry in all", F("storage_total_bytes_per_entry") <= 8192, $"{F("storage_total_bytes_per_entry")} B"),
        ];
    }

    private double Ratio(string key, double floor) => Math.Round((double)_figures[key] / floor, 2);

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private sealed class NoResources : IAsyncDisposable
    {
        public static readonly NoResources Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
