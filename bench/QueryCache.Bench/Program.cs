// QueryCache benchmark: lookup latency and throughput through QueryCacheService, correctness against an exact scan,
// bulk load, index build, storage, store latency and cleanup, with reference figures measured in the same run.
// Run: eng/bench.sh [--sizes 10000,100000] [--dims 1536] [--queries 400] [--hit-recording Immediate|Batched|None]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using QueryCache;
using QueryCache.Bench;
using QueryCache.Tests.Infrastructure;
using QueryCache.Migrations;

var sizes = Arg("--sizes", "10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var dims = int.Parse(Arg("--dims", "1536"), CultureInfo.InvariantCulture);
var queryCount = int.Parse(Arg("--queries", "400"), CultureInfo.InvariantCulture);
var hitRecording = Enum.Parse<HitRecordingMode>(Arg("--hit-recording", nameof(HitRecordingMode.Immediate)), ignoreCase: true);
var server = Arg("--connection", Environment.GetEnvironmentVariable("QUERYCACHE_CONNECTION") ?? "")
    is { Length: > 0 } cs ? cs : throw new InvalidOperationException("Set QUERYCACHE_CONNECTION or pass --connection (eng/bench.sh does).");
const double Threshold = 0.85;
const string Model = "bench-model";

var results = new List<Dictionary<string, object>>();
foreach (var size in sizes)
{
    Console.WriteLine($"== {size:N0} entries x {dims} dimensions ==");
    var r = new Dictionary<string, object> { ["entries"] = size, ["dimensions"] = dims, ["hit_recording"] = hitRecording.ToString() };
    var data = Data.Generate(size, dims, queryCount);
    var db = await CreateDatabaseAsync(server, $"querycache_bench_{size}");
    await QueryCacheMigrator.MigrateAsync(db, dims);

    // Bulk load with binary COPY (the backfill's path), then one index build.
    var ds = QueryCacheDataSourceFor(db);
    await using (var connection = await ds.OpenConnectionAsync())
    {
        var indexDef = await connection.ExecuteScalarAsync<string>("SELECT pg_get_indexdef('askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass)");
        await connection.ExecuteAsync("DROP INDEX askwealth.ix_query_cache_embeddings_embedding_hnsw");
        var watch = Stopwatch.StartNew();
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY askwealth.query_cache_embeddings (tenant_id, query_text, query_hash, answer, embedding, embedding_model) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < size; i++)
            {
                await import.StartRowAsync();
                await import.WriteAsync(data.Tenants[data.TenantOf[i]], NpgsqlDbType.Text);
                await import.WriteAsync($"question {i}", NpgsqlDbType.Text);
                await import.WriteAsync(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)), NpgsqlDbType.Bytea);
                await import.WriteAsync($"answer {i}", NpgsqlDbType.Text);
                await import.WriteAsync(new Vector(data.Embeddings[i]));
                await import.WriteAsync(Model, NpgsqlDbType.Text);
            }

            await import.CompleteAsync();
        }

        r["bulk_load_entries_per_s"] = Math.Round(size / watch.Elapsed.TotalSeconds);
        watch.Restart();
        await connection.ExecuteAsync(indexDef!, commandTimeout: 0);
        r["index_build_s"] = Math.Round(watch.Elapsed.TotalSeconds, 1);
        await connection.ExecuteAsync("VACUUM ANALYZE askwealth.query_cache_embeddings", commandTimeout: 0);
        var (table, hnsw, indexes) = await connection.QuerySingleAsync<(long, long, long)>("""
            SELECT pg_table_size('askwealth.query_cache_embeddings'), pg_relation_size('askwealth.ix_query_cache_embeddings_embedding_hnsw'),
                   pg_indexes_size('askwealth.query_cache_embeddings')
            """);
        r["storage_table_toast_bytes_per_entry"] = table / size;
        r["storage_hnsw_bytes_per_entry"] = hnsw / size;
        r["storage_total_bytes_per_entry"] = (table + indexes) / size;
        if (size <= 10_000 || Flag("--halfvec"))
        {
            await connection.ExecuteAsync($"""
                CREATE TABLE askwealth.bench_halfvec AS SELECT id, tenant_id, query_text, query_hash, answer, embedding_model, created_at, expires_at,
                    hit_count, last_hit_at, embedding::halfvec({dims}) AS embedding FROM askwealth.query_cache_embeddings;
                CREATE INDEX ON askwealth.bench_halfvec USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);
                """, commandTimeout: 0);
            r["storage_halfvec_total_bytes_per_entry"] = await connection.ExecuteScalarAsync<long>(
                "SELECT pg_total_relation_size('askwealth.bench_halfvec')") / size + (indexes - hnsw) / size;
            await connection.ExecuteAsync("DROP TABLE askwealth.bench_halfvec");
        }
    }

    // Exact answers, computed in this process: the nearest entry of the query's tenant.
    var exact = data.Queries.Select(q =>
    {
        var best = -1;
        var bestSim = double.MinValue;
        for (var i = 0; i < size; i++)
        {
            if (data.TenantOf[i] == q.Tenant && Data.Dot(q.Vector, data.Embeddings[i]) is var s && s > bestSim)
            {
                (best, bestSim) = (i, s);
            }
        }

        return (Entry: best, Similarity: bestSim, Hit: bestSim >= Threshold);
    }).ToArray();

    var services = new ServiceCollection().AddLogging();
    services.AddQueryCache(o =>
    {
        o.ConnectionString = db;
        o.Dimensions = dims;
        o.EmbeddingModel = Model;
        o.LookupTimeout = TimeSpan.FromSeconds(30);
        o.HitRecording = hitRecording;
    });
    services.Configure<QueryCacheJobOptions>(o => o.VacuumAfterDeletedEntries = 0);
    await using var provider = services.BuildServiceProvider();
    var cache = provider.GetRequiredService<QueryCacheService>();
    foreach (var q in data.Queries.Take(100))
    {
        await cache.CheckCacheAsync(q.Vector, new CacheScope(data.Tenants[q.Tenant]));
    }

    // Concurrency 1: latency, hits and misses apart, and agreement with the exact scan.
    var hitTimes = new List<double>();
    var missTimes = new List<double>();
    int agree = 0, top1 = 0, exactHits = 0, smallAgree = 0, smallTotal = 0;
    for (var k = 0; k < data.Queries.Count; k++)
    {
        var q = data.Queries[k];
        var watch = Stopwatch.StartNew();
        var hit = await cache.CheckCacheAsync(q.Vector, new CacheScope(data.Tenants[q.Tenant]));
        (hit is null ? missTimes : hitTimes).Add(watch.Elapsed.TotalMilliseconds);
        var same = (hit is not null) == exact[k].Hit;
        agree += same ? 1 : 0;
        if (q.Tenant != 0)
        {
            smallTotal++;
            smallAgree += same ? 1 : 0;
        }

        if (exact[k].Hit)
        {
            exactHits++;
            top1 += hit is not null && hit.EntryId == exact[k].Entry + 1 ? 1 : 0;
        }
    }

    var all = hitTimes.Concat(missTimes).ToList();
    r["lookup_c1_p50_ms"] = P(all, 50);
    r["lookup_c1_p95_ms"] = P(all, 95);
    r["lookup_c1_p99_ms"] = P(all, 99);
    r["lookup_c1_hit_p50_ms"] = P(hitTimes, 50);
    r["lookup_c1_miss_p50_ms"] = P(missTimes, 50);
    r["decision_agreement_pct"] = Math.Round(100.0 * agree / data.Queries.Count, 2);
    r["decision_agreement_small_tenants_pct"] = Math.Round(100.0 * smallAgree / Math.Max(smallTotal, 1), 2);
    r["top1_agreement_pct"] = Math.Round(100.0 * top1 / Math.Max(exactHits, 1), 2);
    r["exact_hits"] = exactHits;

    foreach (var concurrency in new[] { 4, 16 })
    {
        var (p50, p99, throughput) = await ConcurrentAsync(concurrency, data.Queries, q => cache.CheckCacheAsync(q.Vector, new CacheScope(data.Tenants[q.Tenant])));
        r[$"lookup_c{concurrency}_p50_ms"] = p50;
        r[$"lookup_c{concurrency}_p99_ms"] = p99;
        r[$"lookup_c{concurrency}_per_s"] = throughput;
    }

    // References in the same run: the lookup function called raw (Npgsql, prepared, no service), SELECT 1, an exact scan,
    // and the naive pattern of loading the tenant's embeddings into the app.
    await using (var raw = await ds.OpenConnectionAsync())
    {
        await using var command = new NpgsqlCommand("SELECT entry_id FROM askwealth.query_cache_lookup($1, $2, NULL, $3, NULL, true)", raw);
        command.Parameters.Add(new NpgsqlParameter { DataTypeName = "vector" });
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = Model });
        await command.PrepareAsync();
        var times = new List<double>();
        foreach (var q in data.Queries)
        {
            command.Parameters[0].Value = new Vector(q.Vector);
            ((NpgsqlParameter<string>)command.Parameters[1]).TypedValue = data.Tenants[q.Tenant];
            var watch = Stopwatch.StartNew();
            await command.ExecuteScalarAsync();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        r["raw_c1_p50_ms"] = P(times, 50);

        await using var one = new NpgsqlCommand("SELECT 1", raw);
        await one.PrepareAsync();
        times.Clear();
        for (var i = 0; i < 500; i++)
        {
            var watch = Stopwatch.StartNew();
            await one.ExecuteScalarAsync();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        r["select1_p50_ms"] = P(times, 50);

        await raw.ExecuteAsync("SET enable_indexscan = off; SET enable_bitmapscan = off");
        times.Clear();
        foreach (var q in data.Queries.Where(q => q.Tenant == 0).Take(5))
        {
            var watch = Stopwatch.StartNew();
            await raw.ExecuteScalarAsync("""
                SELECT id FROM askwealth.query_cache_embeddings WHERE tenant_id = 'large' AND embedding_model = @Model
                ORDER BY embedding <=> @V LIMIT 1
                """, new { Model, V = new Vector(q.Vector) }, commandTimeout: 0);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        r["exact_scan_large_tenant_p50_ms"] = P(times, 50);
        await raw.ExecuteAsync("RESET enable_indexscan; RESET enable_bitmapscan");

        times.Clear();
        foreach (var q in data.Queries.Where(q => q.Tenant == 0).Take(3))
        {
            var watch = Stopwatch.StartNew();
            var best = double.MinValue;
            await using var reader = await new NpgsqlCommand("SELECT embedding FROM askwealth.query_cache_embeddings WHERE tenant_id = 'large'", raw).ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                best = Math.Max(best, Data.Dot(q.Vector, reader.GetFieldValue<Vector>(0).ToArray()));
            }

            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        r["naive_load_and_compare_large_tenant_p50_ms"] = P(times, 50);
    }

    var rawConcurrent = await ConcurrentAsync(4, data.Queries, async q =>
    {
        await using var c = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT entry_id FROM askwealth.query_cache_lookup($1, $2, NULL, $3, NULL, true)", c);
        cmd.Parameters.AddWithValue(new Vector(q.Vector));
        cmd.Parameters.AddWithValue(data.Tenants[q.Tenant]);
        cmd.Parameters.AddWithValue(Model);
        return await cmd.ExecuteScalarAsync();
    });
    r["raw_c4_per_s"] = rawConcurrent.Throughput;
    r["ratio_c1_p50_service_over_raw"] = Math.Round((double)r["lookup_c1_p50_ms"] / (double)r["raw_c1_p50_ms"], 2);
    r["ratio_c4_throughput_service_over_raw"] = Math.Round((double)r["lookup_c4_per_s"] / rawConcurrent.Throughput, 2);
    r["ratio_exact_scan_over_lookup"] = Math.Round((double)r["exact_scan_large_tenant_p50_ms"] / (double)r["lookup_c1_p50_ms"], 1);
    r["ratio_naive_over_lookup"] = Math.Round((double)r["naive_load_and_compare_large_tenant_p50_ms"] / (double)r["lookup_c1_p50_ms"], 1);
    r["ratio_lookup_over_select1"] = Math.Round((double)r["lookup_c1_p50_ms"] / (double)r["select1_p50_ms"], 1);
    r["ratio_hit_over_miss_p50"] = Math.Round((double)r["lookup_c1_hit_p50_ms"] / (double)r["lookup_c1_miss_p50_ms"], 2);

    // Stores one at a time.
    var rng = new Random(7);
    var storeTimes = new List<double>();
    for (var i = 0; i < 200; i++)
    {
        var watch = Stopwatch.StartNew();
        await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope(data.Tenants[rng.Next(data.Tenants.Length)]), QueryText = $"stored {i}", Answer = "a", Embedding = Vectors.Random(rng, dims) });
        storeTimes.Add(watch.Elapsed.TotalMilliseconds);
    }

    r["store_p50_ms"] = P(storeTimes, 50);

    // Cleanup evicting 10% of a full table, with lookups running meanwhile.
    var total = size + 200;
    await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = total - total / 10 });
    using var stop = new CancellationTokenSource();
    var during = new List<double>();
    var lookups = Task.Run(async () =>
    {
        var k = 0;
        while (!stop.IsCancellationRequested)
        {
            var q = data.Queries[k++ % data.Queries.Count];
            var watch = Stopwatch.StartNew();
            await cache.CheckCacheAsync(q.Vector, new CacheScope(data.Tenants[q.Tenant]));
            during.Add(watch.Elapsed.TotalMilliseconds);
        }
    });
    var cleanupWatch = Stopwatch.StartNew();
    var cleanup = await cache.CleanupAsync();
    r["cleanup_evict_10pct_s"] = Math.Round(cleanupWatch.Elapsed.TotalSeconds, 1);
    r["cleanup_deleted"] = cleanup.Processed;
    await stop.CancelAsync();
    await lookups;
    r["lookup_during_cleanup_p50_ms"] = P(during, 50);
    r["lookup_during_cleanup_p99_ms"] = P(during, 99);
    if (size <= 10_000 || Flag("--vacuum"))
    {
        await using var vacuum = await ds.OpenConnectionAsync();
        var watch = Stopwatch.StartNew();
        await vacuum.ExecuteAsync("VACUUM (ANALYZE) askwealth.query_cache_embeddings", commandTimeout: 0);
        r["vacuum_after_cleanup_s"] = Math.Round(watch.Elapsed.TotalSeconds, 1);
    }

    await ds.DisposeAsync();
    results.Add(r);
    foreach (var (key, value) in r)
    {
        Console.WriteLine($"  {key,-45} {Convert.ToString(value, CultureInfo.InvariantCulture)}");
    }
}

var folder = Path.Combine("artifacts", "bench");
Directory.CreateDirectory(folder);
var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
await File.WriteAllTextAsync(Path.Combine(folder, $"results-{stamp}.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
var md = new StringBuilder("| figure | " + string.Join(" | ", results.Select(x => $"{x["entries"]:N0}")) + " |\n|---|" + string.Concat(results.Select(_ => "---|")) + "\n");
foreach (var key in results[0].Keys.Where(k => k is not "entries"))
{
    md.Append(CultureInfo.InvariantCulture, $"| {key} | {string.Join(" | ", results.Select(x => x.TryGetValue(key, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : ""))} |\n");
}

await File.WriteAllTextAsync(Path.Combine(folder, $"results-{stamp}.md"), md.ToString());
Console.WriteLine();
Console.WriteLine(md);
return 0;

static double P(List<double> values, int percentile)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.OrderBy(v => v).ToList();
    return Math.Round(sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)], 3);
}

static async Task<(double P50, double P99, double Throughput)> ConcurrentAsync<T>(int concurrency, List<Data.Query> queries, Func<Data.Query, Task<T>> lookup)
{
    var times = new System.Collections.Concurrent.ConcurrentBag<double>();
    var next = -1;
    var total = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        int k;
        while ((k = Interlocked.Increment(ref next)) < queries.Count * 2)
        {
            var watch = Stopwatch.StartNew();
            await lookup(queries[k % queries.Count]);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
    })));
    var list = times.ToList();
    return (P(list, 50), P(list, 99), Math.Round(list.Count / total.Elapsed.TotalSeconds));
}

static async Task<string> CreateDatabaseAsync(string server, string name)
{
    await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
    await connection.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    await connection.ExecuteAsync($"CREATE DATABASE {name}");
    return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
}

static NpgsqlDataSource QueryCacheDataSourceFor(string cs)
{
    var builder = new NpgsqlDataSourceBuilder(cs);
    builder.UseVector();
    return builder.Build();
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

bool Flag(string name) => args.Contains(name);
