using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pgvector;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>A tenant's own HNSW graph: built and dropped through the service, walked by its lookups, which still see only what they may.</summary>
public sealed class TenantGraphTests(DatabaseFixture database) : DatabaseTest(database)
{
    private const string Lookup = "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, @Tenant, @User, @Model, 0.85, false)";

    private const string GraphScans = """
        SELECT coalesce((SELECT s.idx_scan FROM pg_stat_user_indexes s WHERE s.indexrelid = askwealth.query_cache_tenant_graph('big')), -1)
        """;

    [Theory]
    [InlineData(null)]
    [InlineData(DatabaseFixture.Dimensions / 4)]
    public async Task A_tenant_with_its_own_graph_walks_it_and_sees_only_its_live_entries_of_the_model_shared_or_its_users(int? prefixDimensions)
    {
        var rng = new Random(17);
        var target = Vectors.Random(rng);
        var question = Vectors.AtSimilarity(target, 0.92, rng);
        var entries = Enumerable.Range(0, 400).Select(i => new SeedEntry("big", null, Vectors.Random(rng), $"big {i}"))
            .Append(new SeedEntry("big", null, target, "mine"))
            // Closer to the question than "mine", and not to be served to u1: another user's, another model's, another
            // tenant's, an expired one.
            .Append(new SeedEntry("big", "u2", Vectors.AtSimilarity(question, 0.99, rng), "private of u2"))
            .Append(new SeedEntry("big", null, Vectors.AtSimilarity(question, 0.99, rng), "other model", Model: "other-model"))
            .Append(new SeedEntry("other", null, Vectors.AtSimilarity(question, 0.99, rng), "other tenant"))
            .Append(new SeedEntry("big", null, Vectors.AtSimilarity(question, 0.99, rng), "expired"));
        await TestData.InsertEntriesAsync(Database.ConnectionString, entries);
        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        await using var dataSource = QueryCache.Internal.CacheDataSource.Build(Database.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("UPDATE askwealth.query_cache_embeddings SET expires_at = now() - interval '1 minute' WHERE query_text = 'expired'");

        Assert.True(await cache.BuildTenantGraphAsync("big", prefixDimensions));
        Assert.False(await cache.BuildTenantGraphAsync("big", prefixDimensions));
        Assert.Equal(prefixDimensions ?? DatabaseFixture.Dimensions, await connection.ExecuteScalarAsync<int>("""
            SELECT a.atttypmod FROM pg_attribute a WHERE a.attrelid = askwealth.query_cache_tenant_graph('big') AND a.attnum = 1
            """));
        // Every tenant through the HNSW path, as a large one would go.
        await connection.ExecuteAsync("SET querycache.exact_scan_limit = 0; SELECT pg_stat_force_next_flush()");
        var scansBefore = await connection.ExecuteScalarAsync<long>(GraphScans);
        Assert.True(scansBefore >= 0, "the tenant has no valid graph of its own");

        Task<string?> LookupAsync(string tenant, string? user) => connection.ExecuteScalarAsync<string?>(Lookup,
            new { Embedding = new Vector(question), Tenant = tenant, User = user, Model = DatabaseFixture.EmbeddingModel });
        Assert.Equal("mine", await LookupAsync("big", "u1"));
        Assert.Equal("private of u2", await LookupAsync("big", "u2"));
        Assert.Equal("other tenant", await LookupAsync("other", "u1"));
        await connection.ExecuteAsync("SELECT pg_stat_force_next_flush()");
        await connection.ExecuteAsync("SELECT pg_stat_clear_snapshot()");
        Assert.True(await connection.ExecuteScalarAsync<long>(GraphScans) >= scansBefore + 2, "the tenant's lookups did not walk its own graph");
        // A prefix graph's nearest are re-ranked on every dimension: the similarity is the exact one.
        Assert.Equal(Vectors.Cosine(Vectors.RoundToHalf(question), Vectors.RoundToHalf(target)), await connection.ExecuteScalarAsync<double>(
            "SELECT similarity FROM askwealth.query_cache_candidates(@Embedding, 'big', 'u1', @Model, NULL, 1)",
            new { Embedding = new Vector(question), Model = DatabaseFixture.EmbeddingModel }), 5);

        // An entry reported wrong for this question is left out of the walk, for this question only.
        const string Nearest = "SELECT query_text FROM askwealth.query_cache_candidates(@Embedding, 'big', 'u1', @Model, sha256('the question'), 3)";
        var nearest = new { Embedding = new Vector(question), Model = DatabaseFixture.EmbeddingModel };
        Assert.Equal("mine", await connection.ExecuteScalarAsync<string>(Nearest, nearest));
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.query_cache_withdrawn (tenant_id, query_hash, entry_id)
            SELECT 'big', sha256('the question'), id FROM askwealth.query_cache_embeddings WHERE query_text = 'mine'
            """);
        Assert.NotEqual("mine", await connection.ExecuteScalarAsync<string>(Nearest, nearest));
        Assert.Equal("mine", await LookupAsync("big", "u1"));

        // An entry not yet indexed is in no graph: found beside the walk, then through the graph once indexed.
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.query_cache_embeddings (tenant_id, query_text, query_hash, answer, embedding, embedding_model, indexed)
            VALUES ('big', 'pending', sha256('pending'), 'a', @Embedding::vector, @Model, false)
            """, new { Embedding = new Vector(Vectors.AtSimilarity(question, 0.995, rng)), Model = DatabaseFixture.EmbeddingModel });
        Assert.Equal("pending", await LookupAsync("big", "u1"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_index_pending(100)"));
        Assert.Equal("pending", await LookupAsync("big", "u1"));

        // Dropped: the shared graph answers the same.
        Assert.True(await cache.DropTenantGraphAsync("big"));
        Assert.False(await cache.DropTenantGraphAsync("big"));
        Assert.Equal(-1, await connection.ExecuteScalarAsync<long>(GraphScans));
        Assert.Equal("pending", await LookupAsync("big", "u1"));
        Assert.Equal("other tenant", await LookupAsync("other", "u1"));
    }

    [Fact]
    public async Task A_graph_of_its_own_is_refused_for_a_blank_or_unknown_tenant_and_an_interrupted_build_is_replaced()
    {
        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        await Assert.ThrowsAsync<ArgumentException>(() => cache.BuildTenantGraphAsync(" "));
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => cache.BuildTenantGraphAsync("nobody"));
        Assert.Contains("has no entries and no settings", unknown.MessageText);
        foreach (var prefix in new[] { 0, DatabaseFixture.Dimensions })
        {
            var outOfRange = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.BuildTenantGraphAsync("nobody", prefix));
            Assert.Contains($"pass 1 to {DatabaseFixture.Dimensions - 1}", outOfRange.Message);
        }

        var rng = new Random(3);
        await TestData.InsertEntriesAsync(Database.ConnectionString,
            Enumerable.Range(0, 20).Select(i => new SeedEntry("big", null, Vectors.Random(rng), $"q{i}")));
        await using var connection = await OpenAsync();
        // What an interrupted CREATE INDEX CONCURRENTLY leaves behind: an invalid index under the graph's name.
        var name = await connection.ExecuteScalarAsync<string>("SELECT askwealth.query_cache_tenant_graph_name('big')");
        await connection.ExecuteAsync($"""
            CREATE INDEX {name} ON askwealth.query_cache_embeddings (id) WHERE tenant_id = 'big';
            UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'askwealth.{name}'::regclass;
            """);
        Assert.Equal(-1, await connection.ExecuteScalarAsync<long>(GraphScans));
        var sqlOutOfRange = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<string>(
            "SELECT askwealth.query_cache_tenant_graph_statement('big', true, @Prefix)", new { Prefix = DatabaseFixture.Dimensions }));
        Assert.Contains("a graph of the first", sqlOutOfRange.MessageText);
        Assert.True(await cache.BuildTenantGraphAsync("big"));
        Assert.Equal("hnsw", await connection.ExecuteScalarAsync<string>("""
            SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = askwealth.query_cache_tenant_graph('big')
            """));
    }
}
