using System.Globalization;
using Dapper;
using Npgsql;
using Pgvector;

namespace QueryCache.Bench;

/// <summary>
/// Lookups against two raw pgvector floors on the same table and index (the walk at the lookup's own ef_search, and at
/// pgvector's default 40: <c>ORDER BY embedding &lt;=&gt; q LIMIT 1</c>, no tenant, no function): the lookup function the
/// service calls, prepared, and the service itself; decisions against an exact scan, per tenant class, in the hard band.
/// </summary>
internal sealed partial class SizeRun
{
    private const int PgvectorDefaultEfSearch = 40;

    private static readonly int[] SweptEfSearch = [40, 64, 100];

    private string VectorCast => $"{QueryCacheSchema.VectorType(_settings.Precision)}({_settings.Dimensions})";

    private static string CandidatesSql =>
        $"SELECT entry_id, similarity FROM askwealth.{QueryCacheSchema.Functions.Candidates}($1, $2, NULL, '{Model}', NULL, 1)";

    private async Task LookupsAsync(QueryCacheService cache, (int Entry, double Similarity)[] exact)
    {
        var queries = _data.Queries;
        var classes = new (string Name, Func<Data.Query, bool> Filter)[] { ("large", q => q.Large), ("small", q => !q.Large), ("all", _ => true) };
        bool InBand(int k) => exact[k].Similarity is >= 0.80 and <= 0.90;
        _figures["hard_band_queries"] = Enumerable.Range(0, queries.Count).Count(InBand);
        _figures["exact_hits"] = exact.Count(e => e.Similarity >= Threshold);

        var raw = PreparedWorker($"SELECT id FROM {Embeddings} WHERE indexed ORDER BY embedding <=> $1::{VectorCast} LIMIT 1", withTenant: false, _settings.EfSearch);
        var raw40 = PreparedWorker($"SELECT id FROM {Embeddings} WHERE indexed ORDER BY embedding <=> $1::{VectorCast} LIMIT 1", withTenant: false, PgvectorDefaultEfSearch);
        var function = PreparedWorker(CandidatesSql, withTenant: true, _settings.EfSearch);
        Task<(Func<int, Task> Run, IAsyncDisposable Resources)> Service() => Task.FromResult<(Func<int, Task>, IAsyncDisposable)>(
            (k => cache.CheckCacheAsync(queries[k % queries.Count].Vector, new CacheScope(_data.Tenants[queries[k % queries.Count].Tenant])),
                NoResources.Instance));
        var workers = new[] { raw, raw40, function, Service };

        // Warm: every query once through each connection that is timed (the service's pool, each worker's own), so all read
        // from shared buffers and no backend is timed while it first maps the pages it reads.
        await Measure.ConcurrentAsync(1, queries.Count, Service);
        var started = new List<(Func<int, Task> Run, IAsyncDisposable Resources)>();
        foreach (var worker in workers.Take(3))
        {
            started.Add(await Measure.WarmedAsync(worker, queries.Count));
        }

        // Concurrency 1: each query through the four in turn, the first of them rotating, so the machine's noise falls on
        // all alike. A hit's count is written before the next call, as in the gap between two requests.

        var times = new double[queries.Count, 4];
        var served = new CacheHit?[queries.Count];
        for (var k = 0; k < queries.Count; k++)
        {
            for (var step = 0; step < 4; step++)
            {
                var which = (k + step) % 4;
                var query = k;
                times[k, which] = which < 3
                    ? await Measure.TimeAsync(() => started[which].Run(query))
                    : await Measure.TimeAsync(async () => served[query] = await cache.CheckCacheAsync(queries[query].Vector, new CacheScope(_data.Tenants[queries[query].Tenant])));
            }

            await cache.FlushHitsAsync();
        }

        foreach (var worker in started)
        {
            await worker.Resources.DisposeAsync();
        }

        double P50(int which, Func<Data.Query, bool> filter) =>
            Measure.Percentile(Enumerable.Range(0, queries.Count).Where(k => filter(queries[k])).Select(k => times[k, which]), 50);
        var floor = P50(0, _ => true);
        var floor40 = P50(1, _ => true);
        _figures["raw_ef_own_c1_p50_ms"] = floor;
        _figures["raw_ef40_c1_p50_ms"] = floor40;
        foreach (var (name, filter) in classes)
        {
            _figures[$"function_{name}_c1_p50_ms"] = P50(2, filter);
            _figures[$"lookup_{name}_c1_p50_ms"] = P50(3, filter);
            _figures[$"lookup_{name}_c1_p99_ms"] = Measure.Percentile(Enumerable.Range(0, queries.Count).Where(k => filter(queries[k])).Select(k => times[k, 3]), 99);
            _figures[$"ratio_function_{name}_over_raw_ef_own"] = Math.Round(P50(2, filter) / floor, 2);
            _figures[$"ratio_function_{name}_over_raw_ef40"] = Math.Round(P50(2, filter) / floor40, 2);
            _figures[$"ratio_lookup_{name}_over_raw_ef_own"] = Math.Round(P50(3, filter) / floor, 2);
            var band = Enumerable.Range(0, queries.Count).Where(k => filter(queries[k]) && InBand(k)).ToList();
            _figures[$"agreement_{name}_hard_band_pct"] = Math.Round(100.0 * band.Count(k => (served[k] is not null) == (exact[k].Similarity >= Threshold)) / Math.Max(1, band.Count), 2);
        }

        var hits = Enumerable.Range(0, queries.Count).Where(k => served[k] is not null).Select(k => times[k, 3]);
        var misses = Enumerable.Range(0, queries.Count).Where(k => served[k] is null).Select(k => times[k, 3]);
        _figures["hit_c1_p50_ms"] = Measure.Percentile(hits, 50);
        _figures["miss_c1_p50_ms"] = Measure.Percentile(misses, 50);
        _figures["top1_agreement_pct"] = Math.Round(100.0 * Enumerable.Range(0, queries.Count).Count(k => exact[k].Similarity >= Threshold && served[k]?.EntryId == exact[k].Entry + 1)
            / Math.Max(1, exact.Count(e => e.Similarity >= Threshold)), 2);

        var (_, rawPerSecond) = await Measure.ConcurrentAsync(4, queries.Count * 2, raw, warmUp: queries.Count);
        var (_, functionPerSecond) = await Measure.ConcurrentAsync(4, queries.Count * 2, function, warmUp: queries.Count);
        var (_, servicePerSecond) = await Measure.ConcurrentAsync(4, queries.Count * 2, Service);
        _figures["raw_ef_own_c4_per_s"] = rawPerSecond;
        _figures["function_c4_per_s"] = functionPerSecond;
        _figures["lookup_c4_per_s"] = servicePerSecond;
        _figures["ratio_function_c4_throughput_over_raw"] = Math.Round(functionPerSecond / rawPerSecond, 2);
        _figures["ratio_lookup_c4_throughput_over_raw"] = Math.Round(servicePerSecond / rawPerSecond, 2);

        await EfSearchSweepAsync(exact, InBand, classes);
    }

    /// <summary>The function's decisions against the exact scan's at each swept ef_search, per tenant class, in the hard band.</summary>
    private async Task EfSearchSweepAsync((int Entry, double Similarity)[] exact, Func<int, bool> inBand, (string Name, Func<Data.Query, bool> Filter)[] classes)
    {
        var queries = _data.Queries;
        await using var connection = await DataSource.OpenConnectionAsync();
        foreach (var ef in SweptEfSearch)
        {
            await connection.ExecuteAsync($"SET {QueryCacheSchema.LookupSettings.EfSearch} = {ef}");
            var hit = new bool[queries.Count];
            for (var k = 0; k < queries.Count; k++)
            {
                var row = await connection.QuerySingleAsync<(long? Entry, double? Similarity)>(CandidatesSql.Replace("$1", "@Vector").Replace("$2", "@Tenant"),
                    new { Vector = new Vector(queries[k].Vector), Tenant = _data.Tenants[queries[k].Tenant] });
                hit[k] = row.Similarity >= Threshold;
            }

            foreach (var (name, filter) in classes.Take(2))
            {
                var band = Enumerable.Range(0, queries.Count).Where(k => filter(queries[k]) && inBand(k)).ToList();
                _figures[$"ef{ef}_agreement_{name}_hard_band_pct"] = Math.Round(100.0 * band.Count(k => hit[k] == (exact[k].Similarity >= Threshold)) / Math.Max(1, band.Count), 2);
            }
        }
    }

    /// <summary>A worker of its own connection and one prepared statement taking the query vector (and the query's tenant).</summary>
    private Func<Task<(Func<int, Task> Run, IAsyncDisposable Resources)>> PreparedWorker(string sql, bool withTenant, int efSearch) => async () =>
    {
        var queries = _data.Queries;
        var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"SET jit = off; SET hnsw.ef_search = {efSearch}"));
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
}
