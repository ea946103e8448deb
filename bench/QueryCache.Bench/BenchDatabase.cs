using System.Globalization;
using System.Text.RegularExpressions;
using Pgvector;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Migrations;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Bench;

/// <summary>What every benchmark run does with its database: create and migrate it, bulk-load it, build the cache over it, drop it.</summary>
internal static class BenchDatabase
{
    public const string Model = "bench-model";
    public const string Embeddings = "askwealth.query_cache_embeddings";
    public const string VectorIndex = "askwealth." + QueryCacheSchema.Embeddings.VectorIndex;

    /// <summary>Database <paramref name="name"/> created afresh and migrated; its connection string carries the run's ef_search.</summary>
    public static async Task<string> CreateAsync(BenchSettings settings, string name)
    {
        await DropAsync(settings, name);
        await using (var server = new NpgsqlConnection(ServerConnectionString(settings)))
        {
            await server.ExecuteAsync($"CREATE DATABASE {name}");
        }

        var connectionString = new NpgsqlConnectionStringBuilder(settings.Server)
        {
            Database = name,
            Options = $"-c {QueryCacheSchema.LookupSettings.EfSearch}={settings.EfSearch}",
        }.ConnectionString;
        await QueryCacheMigrator.MigrateAsync(connectionString, settings.Dimensions, settings.Precision);
        return connectionString;
    }

    /// <summary>Database <paramref name="name"/> created, migrated and loaded with the first <paramref name="entries"/> of <paramref name="data"/>.</summary>
    public static async Task<string> CreateLoadedAsync(BenchSettings settings, string name, Data data, int entries)
    {
        var connectionString = await CreateAsync(settings, name);
        await using var dataSource = DataSource(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await LoadAsync(connection, data, entries);
        return connectionString;
    }

    /// <summary>A data source for the benchmark's own queries: pgvector types, statements prepared as the cache's are.</summary>
    public static NpgsqlDataSource DataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        builder.UseVector();
        return builder.Build();
    }

    public static async Task DropAsync(BenchSettings settings, string name)
    {
        await using var server = new NpgsqlConnection(ServerConnectionString(settings));
        await server.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>
    /// The first <paramref name="count"/> entries of <paramref name="data"/> by binary COPY with the HNSW index dropped,
    /// then one index build and VACUUM ANALYZE: the way a large backfill or restore should go.
    /// </summary>
    public static async Task<(TimeSpan Copy, TimeSpan IndexBuild)> LoadAsync(NpgsqlConnection connection, Data data, int count,
        int? efConstruction = null, int? m = null)
    {
        var indexDefinition = await connection.ExecuteScalarAsync<string>($"SELECT pg_get_indexdef('{VectorIndex}'::regclass)");
        foreach (var (parameter, value) in new[] { ("ef_construction", efConstruction), ("m", m) })
        {
            if (value is { } given)
            {
                indexDefinition = Regex.Replace(indexDefinition!, $"\\b{parameter}='[0-9]+'", string.Create(CultureInfo.InvariantCulture, $"{parameter}='{given}'"));
            }
        }

        await connection.ExecuteAsync($"DROP INDEX {VectorIndex}");
        var watch = Stopwatch.StartNew();
        await Seeding.CopyEntriesAsync(connection, Enumerable.Range(0, count).Select(i =>
            new SeedEntry(data.Tenants[data.TenantOf[i]], null, data.Embeddings[i], $"question {i}", $"answer {i}", Model)));
        var copy = watch.Elapsed;
        watch.Restart();
        await connection.ExecuteAsync($"SET maintenance_work_mem = '2GB'; {indexDefinition}", commandTimeout: 0);
        var indexBuild = watch.Elapsed;
        await connection.ExecuteAsync($"VACUUM ANALYZE {Embeddings}", commandTimeout: 0);
        return (copy, indexBuild);
    }

    /// <summary>The cache over <paramref name="connectionString"/> as the benchmark runs it: the bench model, timeouts no run reaches.</summary>
    public static ServiceProvider Services(BenchSettings settings, string connectionString, Action<QueryCacheOptions> configure,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddQueryCache(o =>
        {
            o.ConnectionString = connectionString;
            o.Dimensions = settings.Dimensions;
            o.EmbeddingModel = Model;
            o.LookupTimeout = TimeSpan.FromSeconds(30);
            o.StoreTimeout = TimeSpan.FromSeconds(30);
            o.HitRecording = settings.HitRecording;
            configure(o);
        });
        services?.Invoke(collection);
        return collection.BuildServiceProvider();
    }

    public static string ServerConnectionString(BenchSettings settings) =>
        new NpgsqlConnectionStringBuilder(settings.Server) { Database = "postgres", Pooling = false }.ConnectionString;
}
