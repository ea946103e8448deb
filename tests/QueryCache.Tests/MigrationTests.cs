using Dapper;
using Npgsql;
using QueryCache.Migrations;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

[Collection(DatabaseTests.Name)]
public sealed class MigrationTests(DatabaseFixture database)
{
    [Fact]
    public async Task Up_down_up_leaves_the_apps_tables_untouched_and_restores_the_same_schema()
    {
        var cs = await database.CreateAppDatabaseAsync("updown");
        var appBefore = await AppFingerprintAsync(cs);

        await QueryCacheMigrator.MigrateAsync(cs);
        var migrated = await TestData.SchemaSnapshotAsync(cs);
        Assert.Contains("relation query_cache_config r", migrated);
        Assert.Contains("relation query_cache_embeddings r toast_tuple_target=4048", migrated);
        Assert.Contains("column query_cache_embeddings.embedding halfvec(1536)", migrated);
        Assert.Contains("USING hnsw (embedding halfvec_cosine_ops) WITH (m='16', ef_construction='200') WHERE indexed", migrated);
        Assert.Contains("relation query_cache_hits r", migrated);
        Assert.Contains("relation query_cache_tenant_sizes r", migrated);
        Assert.Contains("view v_cached_qa_pairs", migrated);
        Assert.Contains("relation query_cache_job_state r", migrated);
        foreach (var function in new[] { "query_cache_lookup", "query_cache_nearest", "query_cache_record_hit", "query_cache_cleanup", "query_cache_stats", "query_cache_index_pending" })
        {
            Assert.Contains($"FUNCTION askwealth.{function}(", migrated);
        }

        await QueryCacheMigrator.MigrateAsync(cs, targetMigration: "0");
        await using (var connection = new NpgsqlConnection(cs))
        {
            var left = (await connection.QueryAsync<string>("""
                SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'askwealth'::regnamespace AND c.relkind IN ('r', 'v')
                UNION ALL SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'askwealth'::regnamespace
                ORDER BY 1
                """)).ToList();
            Assert.Equal(["__query_cache_migrations", "message"], left);
            Assert.False(await connection.ExecuteScalarAsync<bool>("SELECT to_regnamespace('querycache_quartz') IS NOT NULL"));
        }

        Assert.Equal(appBefore, await AppFingerprintAsync(cs));

        await QueryCacheMigrator.MigrateAsync(cs);
        Assert.Equal(migrated, await TestData.SchemaSnapshotAsync(cs));
        Assert.Equal(appBefore, await AppFingerprintAsync(cs));
    }

    [Fact]
    public async Task Idempotent_script_in_sql_folder_is_current_applies_twice_and_matches_the_migrations()
    {
        var script = QueryCacheMigrator.GenerateIdempotentScript();
        var shipped = await File.ReadAllTextAsync(DatabaseFixture.SqlFile("querycache-migrations.sql"));
        Assert.True(Normalize(script) == Normalize(shipped),
            "sql/querycache-migrations.sql is stale: regenerate it with `dotnet ef migrations script --idempotent --project src/QueryCache.Migrations -o sql/querycache-migrations.sql`.");

        var scripted = await database.CreateDatabaseAsync("script");
        await DatabaseFixture.ExecuteFileAsync(scripted, DatabaseFixture.SqlFile("sample-app-schema.sql"));
        await DatabaseFixture.ExecuteFileAsync(scripted, DatabaseFixture.SqlFile("querycache-migrations.sql"));
        await DatabaseFixture.ExecuteFileAsync(scripted, DatabaseFixture.SqlFile("querycache-migrations.sql"));

        var migrated = await database.CreateDatabaseAsync("script_ref");
        await DatabaseFixture.ExecuteFileAsync(migrated, DatabaseFixture.SqlFile("sample-app-schema.sql"));
        await QueryCacheMigrator.MigrateAsync(migrated);

        Assert.Equal(await TestData.SchemaSnapshotAsync(migrated), await TestData.SchemaSnapshotAsync(scripted));
    }

    [Theory]
    [InlineData(EmbeddingPrecision.Half, "halfvec(768)")]
    [InlineData(EmbeddingPrecision.Full, "vector(768)")]
    public async Task Embedding_dimension_and_precision_are_chosen_at_migration_time_and_enforced_by_the_lookup_function(
        EmbeddingPrecision precision, string columnType)
    {
        var cs = await database.CreateDatabaseAsync($"dims_{precision}".ToLowerInvariant());
        await QueryCacheMigrator.MigrateAsync(cs, dimensions: 768, precision);
        await using var connection = new NpgsqlConnection(cs);
        var type = await connection.ExecuteScalarAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'askwealth.query_cache_embeddings'::regclass AND attname = 'embedding'");
        Assert.Equal(columnType, type);
        Assert.Contains($"{QueryCacheSchema.VectorType(precision)}_cosine_ops", await connection.ExecuteScalarAsync<string>(
            "SELECT pg_get_indexdef('askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass)"));

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "SELECT * FROM askwealth.query_cache_lookup(array_fill(0.1, ARRAY[1536])::vector, 't', NULL, 'm')"));
        Assert.Equal("22023", error.SqlState);
        Assert.Contains("1536 dimensions, the cache stores 768", error.MessageText);
        Assert.NotNull(error.Hint);
    }

    [Fact]
    public async Task Half_precision_indexes_3072_dimensions_and_full_precision_refuses_them_with_the_fix()
    {
        var cs = await database.CreateDatabaseAsync("large_model");
        await QueryCacheMigrator.MigrateAsync(cs, dimensions: 3072);
        await using var connection = new NpgsqlConnection(cs);
        Assert.Equal("halfvec(3072)", await connection.ExecuteScalarAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'askwealth.query_cache_embeddings'::regclass AND attname = 'embedding'"));

        var fullPrecision = await database.CreateDatabaseAsync("large_model_full");
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            QueryCacheMigrator.MigrateAsync(fullPrecision, dimensions: 3072, EmbeddingPrecision.Full));
        Assert.Contains("between 1 and 2000", error.Message, StringComparison.Ordinal);
        Assert.Contains("Half precision", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrading_a_cache_keeps_its_entries_and_hit_counts_stores_vectors_inline_and_the_way_down_restores_them()
    {
        var cs = await database.CreateAppDatabaseAsync("upgrade");
        await QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions, targetMigration: "AddAnswerCorrectness");
        var rng = new Random(21);
        var vectors = Enumerable.Range(0, 3).Select(_ => Vectors.Random(rng)).ToArray();
        await using var dataSource = QueryCache.Internal.CacheDataSource.Build(cs);
        await using var connection = await dataSource.OpenConnectionAsync();
        for (var i = 0; i < vectors.Length; i++)
        {
            await connection.ExecuteAsync("""
                INSERT INTO askwealth.query_cache_embeddings (tenant_id, query_text, query_hash, answer, embedding, embedding_model, hit_count, last_hit_at)
                VALUES ('t', @Text, sha256(@Text::bytea), 'a', @Embedding, 'm', @Hits, CASE WHEN @Hits > 0 THEN now() END)
                """, new { Text = $"q{i}", Embedding = new Pgvector.Vector(vectors[i]), Hits = i * 5 });
        }

        await QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions);
        Assert.Equal("0:0|1:5|2:10", await connection.ExecuteScalarAsync<string>("""
            SELECT string_agg(substr(e.query_text, 2) || ':' || coalesce(h.hit_count, 0), '|' ORDER BY e.query_text)
            FROM askwealth.query_cache_embeddings e LEFT JOIN askwealth.query_cache_hits h ON h.entry_id = e.id
            """));
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT entries FROM askwealth.query_cache_tenant_sizes WHERE tenant_id = 't'"));
        // The rewritten rows hold their vectors on the row's page: nothing in TOAST.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'askwealth.query_cache_embeddings'::regclass"));
        Assert.Equal("q1", await connection.ExecuteScalarAsync<string>(
            "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, 't', NULL, 'm', 0.99, false)", new { Embedding = new Pgvector.Vector(vectors[1]) }));

        await QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions, targetMigration: "AddAnswerCorrectness");
        Assert.Equal("0:0|1:5|2:10", await connection.ExecuteScalarAsync<string>(
            "SELECT string_agg(substr(query_text, 2) || ':' || hit_count, '|' ORDER BY query_text) FROM askwealth.query_cache_embeddings"));
        Assert.Equal($"vector({DatabaseFixture.Dimensions})", await connection.ExecuteScalarAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'askwealth.query_cache_embeddings'::regclass AND attname = 'embedding'"));
        Assert.Equal("q2", await connection.ExecuteScalarAsync<string>(
            "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, 't', NULL, 'm', 0.99, false)", new { Embedding = new Pgvector.Vector(vectors[2]) }));
    }

    [Fact]
    public async Task Empty_database_gets_a_placeholder_view_until_the_message_table_exists()
    {
        var cs = await database.CreateDatabaseAsync("placeholder");
        await QueryCacheMigrator.MigrateAsync(cs);
        await using var connection = new NpgsqlConnection(cs);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.v_cached_qa_pairs"));
        Assert.StartsWith("placeholder", await connection.ExecuteScalarAsync<string>(
            "SELECT obj_description('askwealth.v_cached_qa_pairs'::regclass, 'pg_class')"));

        await DatabaseFixture.ExecuteFileAsync(cs, DatabaseFixture.SqlFile("sample-app-schema.sql"));
        Assert.True(await connection.ExecuteScalarAsync<bool>("SELECT askwealth.query_cache_define_qa_view()"));
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at) VALUES
            ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'user', 'q', '2026-01-01T00:00:00Z'),
            ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'assistant', 'a', '2026-01-01T00:00:01Z')
            """);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.v_cached_qa_pairs"));
    }

    [Fact]
    public async Task Migrating_twice_is_a_no_op()
    {
        var cs = await database.CreateDatabaseAsync("twice");
        await QueryCacheMigrator.MigrateAsync(cs);
        var first = await TestData.SchemaSnapshotAsync(cs);
        await QueryCacheMigrator.MigrateAsync(cs);
        Assert.Equal(first, await TestData.SchemaSnapshotAsync(cs));
    }

    [Fact]
    public void Latest_migration_constant_names_the_newest_migration()
    {
        var newest = typeof(QueryCacheMigrator).Assembly.GetTypes()
            .Select(t => t.GetCustomAttributes(typeof(Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute), false)
                .Cast<Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute>().SingleOrDefault()?.Id)
            .Where(id => id is not null)
            .Max(StringComparer.Ordinal);
        Assert.Equal(QueryCacheSchema.LatestMigration, newest);
    }

    private static string Normalize(string sql) => sql.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\uFEFF', '\n', ' ');

    private static async Task<string> AppFingerprintAsync(string cs)
    {
        await using var connection = new NpgsqlConnection(cs);
        var rows = await connection.QueryAsync<string>("""
            SELECT 'orders ' || string_agg(id || ':' || note, ',' ORDER BY id) FROM public.app_orders
            UNION ALL SELECT 'messages ' || count(*) FROM askwealth.message
            UNION ALL SELECT 'columns ' || string_agg(table_schema || '.' || table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_schema, table_name, column_name)
            FROM information_schema.columns WHERE table_name IN ('app_orders', 'message')
            """);
        return string.Join('\n', rows);
    }
}
