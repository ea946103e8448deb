using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Migrations;
using Respawn;
using Testcontainers.PostgreSql;

namespace QueryCache.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL + pgvector server for the whole run: <c>QUERYCACHE_TEST_CONNECTION</c> when set (CI and
/// <c>eng/db.sh</c> set it), otherwise a Testcontainers <c>pgvector/pgvector</c> container. The shared database is
/// created fresh, given the sample app schema and migrated with the real migrations; Respawn empties it before each test.
/// </summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    public const int Dimensions = Vectors.DefaultDimensions;
    public const string EmbeddingModel = Seeding.DefaultModel;
    public const string ConnectionVariable = "QUERYCACHE_TEST_CONNECTION";

    private PostgreSqlContainer? _container;
    private Respawner? _respawner;
    private readonly List<string> _databases = [];

    /// <summary>A connection string to the server (its maintenance database).</summary>
    public string ServerConnectionString { get; private set; } = "";

    /// <summary>The shared, migrated test database.</summary>
    public string ConnectionString { get; private set; } = "";

    public static string SqlFile(string name) => Path.Combine(AppContext.BaseDirectory, "sql", name);

    public async Task InitializeAsync()
    {
        ServerConnectionString = Environment.GetEnvironmentVariable(ConnectionVariable) ?? await StartContainerAsync();
        ConnectionString = await CreateDatabaseAsync("main");
        await MigrateAppDatabaseAsync(ConnectionString);
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        _respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["askwealth"],
            TablesToIgnore = ["__query_cache_migrations", "query_cache_config"],
        });
    }

    /// <summary>Empties the cache and the app's messages, drops the tenants' own graphs and puts the config back to the seeded defaults.</summary>
    public async Task ResetAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await _respawner!.ResetAsync(connection);
        await connection.ExecuteAsync("""
            DELETE FROM askwealth.query_cache_config WHERE tenant_id IS NOT NULL;
            UPDATE askwealth.query_cache_config
            SET similarity_threshold = 0.85, cache_enabled = true, max_cache_entries = 5000, default_ttl = NULL,
                guard_enabled = true, contrast_terms = @Terms, share_after_askers = 1
            WHERE tenant_id IS NULL;
            DO $$
            DECLARE
                v_index text;
            BEGIN
                FOR v_index IN SELECT relname FROM pg_class WHERE relname LIKE 'ix_query_cache_graph_%' LOOP
                    EXECUTE format('DROP INDEX askwealth.%I', v_index);
                END LOOP;
            END $$;
            """, new { Terms = SampleContrastTerms.Wealth.ToArray() });
    }

    /// <summary>Creates an empty database for this run (dropped at the end) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string suffix)
    {
        var name = $"querycache_test_{Environment.ProcessId}_{suffix}";
        _databases.Add(name);
        return await RecreateDatabaseAsync(ServerConnectionString, name);
    }

    /// <summary>Drops database <paramref name="name"/> on the server if it is there and creates it empty; returns its connection string.</summary>
    public static async Task<string> RecreateDatabaseAsync(string serverConnectionString, string name)
    {
        await using (var connection = new NpgsqlConnection(serverConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            await connection.ExecuteAsync($"CREATE DATABASE \"{name}\"");
        }

        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>What every suite's database gets: the sample app schema, then the real migrations.</summary>
    public static async Task MigrateAppDatabaseAsync(string connectionString)
    {
        await ExecuteFileAsync(connectionString, SqlFile("sample-app-schema.sql"));
        await QueryCacheMigrator.MigrateAsync(connectionString, Dimensions);
    }

    public static async Task ExecuteFileAsync(string connectionString, string path)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(await File.ReadAllTextAsync(path));
    }

    /// <summary>A container of the library as a host would build it, against the shared database unless told otherwise.</summary>
    public ServiceProvider BuildServices(Action<QueryCacheOptions>? configure = null,
        IEmbeddingGenerator<string, Embedding<float>>? generator = null, Action<IServiceCollection>? services = null) =>
        BuildServices(ConnectionString, configure, generator, services);

    /// <summary>A container of the library as a host would build it, against <paramref name="connectionString"/>.</summary>
    public static ServiceProvider BuildServices(string connectionString, Action<QueryCacheOptions>? configure = null,
        IEmbeddingGenerator<string, Embedding<float>>? generator = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection().AddLogging();
        if (generator is not null)
        {
            collection.AddSingleton(generator);
        }

        services?.Invoke(collection);
        collection.AddQueryCache(options =>
        {
            options.ConnectionString = connectionString;
            options.Dimensions = Dimensions;
            options.EmbeddingModel = EmbeddingModel;
            // The machine is shared and the suites run in parallel: a slow lookup must not pass for a miss.
            // Fail-open tests set their own short timeouts.
            options.LookupTimeout = TimeSpan.FromSeconds(10);
            options.StoreTimeout = TimeSpan.FromSeconds(10);
            configure?.Invoke(options);
        });
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>
    /// A fresh database as an app has it before QueryCache arrives: the sample message table with one message, and an
    /// unrelated table of the app's own (<c>public.app_orders</c>) that the migrations must leave alone.
    /// </summary>
    public async Task<string> CreateAppDatabaseAsync(string suffix)
    {
        var connectionString = await CreateDatabaseAsync(suffix);
        await ExecuteFileAsync(connectionString, SqlFile("sample-app-schema.sql"));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync("""
            CREATE TABLE public.app_orders (id int PRIMARY KEY, note text);
            INSERT INTO public.app_orders VALUES (1, 'kept'), (2, 'kept too');
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content)
            VALUES (gen_random_uuid(), gen_random_uuid(), 't1', 'u1', 'user', 'hello');
            """);
        return connectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync();
            return;
        }

        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        foreach (var name in _databases)
        {
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        }
    }

    private async Task<string> StartContainerAsync()
    {
        if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 })
        {
            throw new InvalidOperationException(
                $"{ConnectionVariable} is not set under CI. .ci/run sets it from eng/db.sh; run `export {ConnectionVariable}=$(eng/db.sh start)`.");
        }

        try
        {
            _container = new PostgreSqlBuilder("pgvector/pgvector:pg17").Build();
            await _container.StartAsync();
            return _container.GetConnectionString();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"The tests need PostgreSQL with pgvector. Either run `export {ConnectionVariable}=$(eng/db.sh start)` " +
                "(installs and starts a local server, no Docker needed), or start Docker so Testcontainers can run pgvector/pgvector:pg17.", ex);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DatabaseTests : ICollectionFixture<DatabaseFixture>
{
    public const string Name = "database";
}

/// <summary>Base of tests that share the database: each starts from an empty cache with default config.</summary>
[Collection(DatabaseTests.Name)]
public abstract class DatabaseTest(DatabaseFixture database) : IAsyncLifetime
{
    protected DatabaseFixture Database { get; } = database;

    public virtual Task InitializeAsync() => Database.ResetAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    protected async Task<long> CountEntriesAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings");
    }
}
