using Dapper;
using Npgsql;
using Pgvector;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The database objects used directly from SQL, as a team applying the script by hand would.</summary>
public sealed class SchemaTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Fact]
    public async Task Lookup_function_walks_the_hnsw_index_for_a_large_tenant_and_compares_a_small_one_exactly()
    {
        var rng = new Random(7);
        var large = Enumerable.Range(0, QueryCacheSchema.LookupSettings.DefaultExactScanLimit + 100)
            .Select(i => new SeedEntry("large", null, Vectors.Random(rng), $"question {i}")).ToList();
        var small = Enumerable.Range(0, 30).Select(i => new SeedEntry("small", null, Vectors.Random(rng), $"small question {i}")).ToList();
        await TestData.InsertEntriesAsync(Database.ConnectionString, large.Concat(small));

        const string lookup = """SELECT query_text AS "QueryText", similarity AS "Similarity" FROM askwealth.query_cache_lookup(@Embedding, @Tenant, NULL, @Model, @Threshold)""";
        foreach (var (tenant, target, path) in new[] { ("large", large[1234], "ix_query_cache_embeddings_embedding_hnsw"), ("small", small[17], "Index Scan using ") })
        {
            var query = Vectors.AtSimilarity(target.Embedding, 0.93, rng);
            var (hit, plans) = await TestData.ExplainLookupAsync<(string QueryText, double Similarity)?>(Database.ConnectionString, lookup,
                new { Embedding = new Vector(query), Tenant = tenant, Model = DatabaseFixture.EmbeddingModel, Threshold = 0.9 });
            Assert.NotNull(hit);
            Assert.Equal(target.QueryText, hit.Value.QueryText);
            // Compared in the stored type: the similarity of the two vectors rounded to half precision.
            Assert.Equal(Vectors.Cosine(Vectors.RoundToHalf(query), Vectors.RoundToHalf(target.Embedding)), hit.Value.Similarity, 5);
            Assert.Contains(plans, plan => plan.Contains(path, StringComparison.Ordinal));
            if (tenant == "small")
            {
                // Read through one of the tenant-led b-trees (the scope index or the primary key), never the HNSW index.
                Assert.DoesNotContain(plans, plan => plan.Contains("embedding_hnsw", StringComparison.Ordinal));
                Assert.DoesNotContain(plans, plan => plan.Contains("Seq Scan on query_cache_embeddings", StringComparison.Ordinal));
            }

            var (miss, _) = await TestData.ExplainLookupAsync<(string QueryText, double Similarity)?>(Database.ConnectionString, lookup,
                new { Embedding = new Vector(query), Tenant = tenant, Model = DatabaseFixture.EmbeddingModel, Threshold = 0.95 });
            Assert.Null(miss);
        }
    }

    [Fact]
    public async Task Recording_a_hit_indexing_and_evicting_reach_entries_by_their_whole_key_never_by_scanning_it()
    {
        // The primary key is (tenant_id, id): a statement that names the id alone scans the whole key for every row.
        var rng = new Random(5);
        var entries = Enumerable.Range(0, 2000).Select(i => new SeedEntry($"t{i % 4}", null, Vectors.Random(rng), $"q{i}")).ToList();
        await TestData.InsertEntriesAsync(Database.ConnectionString, entries, rebuildIndex: true);
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.ExecuteAsync("ANALYZE askwealth.query_cache_embeddings");
        static void AssertNoKeyScan(List<string> plans)
        {
            var scans = plans.Where(plan => plan.Contains("Seq Scan on query_cache_embeddings", StringComparison.Ordinal)
                || System.Text.RegularExpressions.Regex.IsMatch(plan, @"Index Cond: \(id = ")).ToList();
            Assert.True(scans.Count == 0, string.Join("\n\n", scans));
        }

        var (hit, plans) = await TestData.ExplainLookupAsync<string?>(Database.ConnectionString,
            "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, 't1', NULL, @Model, 0.99)",
            new { Embedding = new Vector(entries[5].Embedding), Model = DatabaseFixture.EmbeddingModel });
        Assert.Equal("q5", hit);
        AssertNoKeyScan(plans);
        Assert.Equal(1, await TestData.ScalarAsync(Database.ConnectionString, "SELECT hit_count FROM askwealth.query_cache_hits WHERE tenant_id = 't1'"));

        await connection.ExecuteAsync("UPDATE askwealth.query_cache_embeddings SET indexed = false WHERE tenant_id = 't2' AND id % 50 = 0");
        (_, plans) = await TestData.ExplainLookupAsync<int>(Database.ConnectionString, "SELECT askwealth.query_cache_index_pending(100)", new { });
        AssertNoKeyScan(plans);
        await connection.ExecuteAsync("UPDATE askwealth.query_cache_config SET max_cache_entries = 1990 WHERE tenant_id IS NULL");
        var (evicted, cleanupPlans) = await TestData.ExplainLookupAsync<int>(Database.ConnectionString, "SELECT askwealth.query_cache_cleanup(100)", new { });
        Assert.Equal(10, evicted);
        Assert.DoesNotContain(cleanupPlans, plan => System.Text.RegularExpressions.Regex.IsMatch(plan, @"Index Cond: \(id = "));
    }

    [Fact]
    public async Task An_entry_not_yet_indexed_answers_at_once_and_an_index_pass_adds_it_to_the_hnsw_index()
    {
        var rng = new Random(11);
        await TestData.InsertEntriesAsync(Database.ConnectionString,
            Enumerable.Range(0, 50).Select(i => new SeedEntry("t1", null, Vectors.Random(rng), $"q{i}")));
        var stored = Vectors.Random(rng);
        var query = Vectors.AtSimilarity(stored, 0.95, rng);
        await using var dataSource = QueryCache.Internal.CacheDataSource.Build(Database.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        // Every tenant through the HNSW path, as a large one would go.
        await connection.ExecuteAsync("SET querycache.exact_scan_limit = 0");
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.query_cache_embeddings (tenant_id, query_text, query_hash, answer, embedding, embedding_model, indexed)
            VALUES ('t1', 'pending', sha256('pending'), 'a', @Embedding::vector, @Model, false)
            """, new { Embedding = new Vector(stored), Model = DatabaseFixture.EmbeddingModel });
        const string Lookup = "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, 't1', NULL, @Model, 0.9)";
        var parameters = new { Embedding = new Vector(query), Model = DatabaseFixture.EmbeddingModel };
        Assert.Equal("pending", await connection.ExecuteScalarAsync<string>(Lookup, parameters));

        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_index_pending(100)"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_index_pending(100)"));
        Assert.True(await connection.ExecuteScalarAsync<bool>("SELECT indexed FROM askwealth.query_cache_embeddings WHERE query_text = 'pending'"));
        Assert.Equal("pending", await connection.ExecuteScalarAsync<string>(Lookup, parameters));
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("SELECT askwealth.query_cache_index_pending(0)"));
        Assert.Contains("at least 1", error.MessageText);
    }

    [Fact]
    public async Task A_small_tenant_walked_through_the_hnsw_index_finds_its_entry_behind_closer_entries_of_a_large_one()
    {
        // A 1% tenant sent down the HNSW path, each of its entries behind 30 entries of the large tenant that are closer
        // to the question: a candidate list of 20 holds none of the small tenant's, so only an iterative walk finds them.
        var rng = new Random(13);
        var targets = Enumerable.Range(0, 10).Select(i => new SeedEntry("small", null, Vectors.Random(rng), $"small {i}")).ToList();
        var questions = targets.Select(t => Vectors.AtSimilarity(t.Embedding, 0.9, rng)).ToList();
        var crowd = questions.SelectMany((q, i) => Enumerable.Range(0, 30).Select(j => new SeedEntry("large", null, Vectors.AtSimilarity(q, 0.97, rng), $"crowd {i}.{j}")));
        var rest = Enumerable.Range(0, 3000).Select(i => new SeedEntry("large", null, Vectors.Random(rng), $"large {i}"));
        await TestData.InsertEntriesAsync(Database.ConnectionString, targets.Concat(crowd).Concat(rest));
        await using var dataSource = QueryCache.Internal.CacheDataSource.Build(Database.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("VACUUM ANALYZE askwealth.query_cache_embeddings");
        await connection.ExecuteAsync("SET querycache.exact_scan_limit = 0; SET querycache.ef_search = 20");
        for (var i = 0; i < targets.Count; i++)
        {
            Assert.Equal(targets[i].QueryText, await connection.ExecuteScalarAsync<string>(
                "SELECT query_text FROM askwealth.query_cache_lookup(@Embedding, 'small', NULL, @Model, 0.85, false)",
                new { Embedding = new Vector(questions[i]), Model = DatabaseFixture.EmbeddingModel }));
        }
    }

    [Fact]
    public async Task Tenant_sizes_follow_inserts_deletes_and_truncation()
    {
        var rng = new Random(5);
        await TestData.InsertEntriesAsync(Database.ConnectionString, Enumerable.Range(0, 12)
            .Select(i => new SeedEntry(i % 3 == 0 ? "a" : "b", null, Vectors.Random(rng), $"q{i}", Model: i < 6 ? "m1" : "m2")));
        await using var connection = await OpenAsync();
        const string Sizes = """
            SELECT string_agg(tenant_id || '/' || embedding_model || '=' || entries, ' ' ORDER BY tenant_id, embedding_model)
            FROM askwealth.query_cache_tenant_sizes
            """;
        Assert.Equal("a/m1=2 a/m2=2 b/m1=4 b/m2=4", await connection.ExecuteScalarAsync<string>(Sizes));

        await connection.ExecuteAsync("DELETE FROM askwealth.query_cache_embeddings WHERE query_text IN ('q0', 'q1', 'q7')");
        Assert.Equal("a/m1=1 a/m2=2 b/m1=3 b/m2=3", await connection.ExecuteScalarAsync<string>(Sizes));

        await connection.ExecuteAsync("TRUNCATE askwealth.query_cache_embeddings CASCADE");
        Assert.Null(await connection.ExecuteScalarAsync<string>(Sizes));
    }

    [Fact]
    public async Task Lookup_function_refuses_a_threshold_outside_zero_to_one_and_a_zero_vector()
    {
        await using var connection = await OpenAsync();
        var threshold = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "SELECT * FROM askwealth.query_cache_lookup(array_fill(0.1, ARRAY[384])::vector, 't', NULL, 'm', 1.5)"));
        Assert.Contains("outside [0, 1]", threshold.MessageText);
        var zero = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "SELECT * FROM askwealth.query_cache_lookup(array_fill(0, ARRAY[384])::vector, 't', NULL, 'm')"));
        Assert.Contains("all zeros", zero.MessageText);
        var tenant = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "SELECT * FROM askwealth.query_cache_lookup(array_fill(0.1, ARRAY[384])::vector, '', NULL, 'm')"));
        Assert.Contains("tenant_id is empty", tenant.MessageText);
    }

    [Theory]
    [InlineData("UPDATE askwealth.query_cache_config SET similarity_threshold = 1.5 WHERE tenant_id IS NULL")]
    [InlineData("UPDATE askwealth.query_cache_config SET similarity_threshold = -0.1 WHERE tenant_id IS NULL")]
    [InlineData("UPDATE askwealth.query_cache_config SET similarity_threshold = 'NaN' WHERE tenant_id IS NULL")]
    [InlineData("UPDATE askwealth.query_cache_config SET max_cache_entries = 0 WHERE tenant_id IS NULL")]
    [InlineData("UPDATE askwealth.query_cache_config SET default_ttl = interval '-1 hour' WHERE tenant_id IS NULL")]
    [InlineData("UPDATE askwealth.query_cache_config SET cache_enabled = NULL WHERE tenant_id IS NULL")]
    [InlineData("INSERT INTO askwealth.query_cache_config (tenant_id) VALUES (NULL)")]
    [InlineData("INSERT INTO askwealth.query_cache_config (tenant_id) VALUES ('')")]
    public async Task The_database_itself_refuses_invalid_config(string sql)
    {
        await using var connection = await OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql));
        Assert.Contains(error.SqlState, new[] { "23514", "23505", "23502" });
        var config = await connection.QuerySingleAsync<(double, bool, int)>(
            "SELECT similarity_threshold, cache_enabled, max_cache_entries FROM askwealth.query_cache_config WHERE tenant_id IS NULL");
        Assert.Equal((0.85, true, 5000), config);
    }

    [Fact]
    public async Task Qa_view_pairs_each_user_message_with_the_assistant_reply_that_follows_it()
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, rephrased_query, created_at) VALUES
            ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'system', 'be nice', NULL, '2026-01-01T00:00:00Z'),
            ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'user', 'what r fees', 'What are the fees?', '2026-01-01T00:00:01Z'),
            ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'system', 'tool output', NULL, '2026-01-01T00:00:02Z'),
            ('00000000-0000-0000-0000-000000000004', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'assistant', 'Fees are 0.2%.', NULL, '2026-01-01T00:00:03Z'),
            ('00000000-0000-0000-0000-000000000005', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'user', 'unanswered', NULL, '2026-01-01T00:00:04Z'),
            ('00000000-0000-0000-0000-000000000006', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'user', 'And an ISA?', '  ', '2026-01-01T00:00:05Z'),
            ('00000000-0000-0000-0000-000000000007', '00000000-0000-0000-0000-0000000000c1', 't', 'u', 'assistant', 'ISAs are tax-free.', NULL, '2026-01-01T00:00:06Z'),
            ('00000000-0000-0000-0000-000000000008', '00000000-0000-0000-0000-0000000000c2', 't', 'u', 'assistant', 'other conversation', NULL, '2026-01-01T00:00:02Z')
            """);
        var pairs = (await connection.QueryAsync<(Guid UserMessageId, Guid AssistantMessageId, string Question, string Answer)>("""
            SELECT user_message_id, assistant_message_id, question, answer FROM askwealth.v_cached_qa_pairs ORDER BY asked_at
            """)).ToList();
        Assert.Equal(
            [
                (Guid.Parse("00000000-0000-0000-0000-000000000002"), Guid.Parse("00000000-0000-0000-0000-000000000004"), "What are the fees?", "Fees are 0.2%."),
                (Guid.Parse("00000000-0000-0000-0000-000000000006"), Guid.Parse("00000000-0000-0000-0000-000000000007"), "And an ISA?", "ISAs are tax-free."),
            ],
            pairs);
    }

    [Fact]
    public async Task Cleanup_function_removes_expired_entries_then_the_least_recently_used_over_the_cap()
    {
        var rng = new Random(3);
        await TestData.InsertEntriesAsync(Database.ConnectionString,
            Enumerable.Range(0, 30).Select(i => new SeedEntry("t1", null, Vectors.Random(rng), $"q{i}")));
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync("""
            UPDATE askwealth.query_cache_embeddings SET created_at = now() - make_interval(mins => id::int);
            UPDATE askwealth.query_cache_embeddings SET expires_at = now() - interval '1 second' WHERE query_text IN ('q0', 'q1');
            INSERT INTO askwealth.query_cache_hits (tenant_id, entry_id, hit_count, last_hit_at)
            SELECT tenant_id, id, 1, now() FROM askwealth.query_cache_embeddings WHERE query_text IN ('q28', 'q29');
            INSERT INTO askwealth.query_cache_config (tenant_id, max_cache_entries) VALUES ('t1', 10);
            """);

        var deleted = 0;
        int batch;
        while ((batch = await connection.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_cleanup(4)")) > 0)
        {
            Assert.InRange(batch, 1, 4);
            deleted += batch;
        }

        Assert.Equal(20, deleted);
        var kept = (await connection.QueryAsync<string>("SELECT query_text FROM askwealth.query_cache_embeddings")).ToHashSet();
        Assert.Equal(10, kept.Count);
        Assert.DoesNotContain("q0", kept);
        Assert.Contains("q28", kept);
        Assert.Contains("q29", kept);
        // Never-hit entries go by age: the newest (lowest id, so latest created_at) remain.
        Assert.Contains("q2", kept);
        Assert.DoesNotContain("q27", kept);
    }

    [Fact]
    public async Task Lookup_functions_keep_the_plans_of_their_statements()
    {
        // PostgreSQL re-plans a statement with parameters at every call unless a generic plan looks no dearer: the
        // lookup's final read never looked so and was planned at every lookup (0.27 ms of 4.8 at 1536 dimensions) until
        // the functions were told to keep their plans. A migration that redefines one of them must restate the setting.
        await using var connection = await OpenAsync();
        var settings = (await connection.QueryAsync<(string Name, string[]? Config)>(
            "SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'askwealth'::regnamespace AND proname = ANY(@Names)",
            new { Names = new[] { QueryCacheSchema.Functions.Candidates, QueryCacheSchema.Functions.PendingCandidates } })).ToList();
        Assert.Equal(2, settings.Count);
        Assert.All(settings, function => Assert.Contains("plan_cache_mode=force_generic_plan", function.Config ?? []));
    }
}
