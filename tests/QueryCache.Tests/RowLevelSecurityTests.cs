using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>Row-level security as the database enforces it, through a login role made by query_cache_grant_to.</summary>
public sealed class RowLevelSecurityTests(DatabaseFixture database) : DatabaseTest(database)
{
    private const string CountEntries = "SELECT count(*) FROM askwealth.query_cache_embeddings";

    [Fact]
    public async Task A_granted_role_sees_only_the_declared_tenant_and_runs_every_service_operation()
    {
        var owner = await Database.CreateDatabaseAsync("rls");
        await DatabaseFixture.MigrateAppDatabaseAsync(owner);
        await History.SeedAsync(owner, 20);
        var role = $"qc_app_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(owner);
        // The role's name is made here, not taken from input: CREATE ROLE cannot take it as a parameter.
        await admin.ExecuteAsync($"CREATE ROLE {role} LOGIN PASSWORD 'app-secret'");
        try
        {
            await admin.ExecuteAsync("SELECT askwealth.query_cache_grant_to(@role)", new { role });
            Assert.True(await admin.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_enable_row_level_security()") >= 7);
            var app = new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = "app-secret" }.ConnectionString;
            await RunEveryOperationAsync(app);

            // A raw query of the role: nothing without a declared tenant, that tenant's rows with one.
            await using (var raw = new NpgsqlConnection(app))
            {
                Assert.Equal(0, await raw.ExecuteScalarAsync<long>(CountEntries));
                Assert.Equal(0, await raw.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_hits"));
                var (mine, others) = await raw.QuerySingleAsync<(long, long)>("""
                    CALL askwealth.query_cache_declare_tenant('tenant-a');
                    SELECT count(*), count(*) FILTER (WHERE tenant_id <> 'tenant-a') FROM askwealth.query_cache_embeddings
                    """);
                Assert.True(mine > 0);
                Assert.Equal(0, others);
                await Assert.ThrowsAsync<PostgresException>(() => raw.ExecuteAsync("""
                    CALL askwealth.query_cache_declare_tenant('tenant-a');
                    INSERT INTO askwealth.query_cache_embeddings (tenant_id, query_text, query_hash, answer, embedding, embedding_model)
                    SELECT 'tenant-b', 'planted', sha256('planted'::bytea), 'x', embedding, embedding_model FROM askwealth.query_cache_embeddings LIMIT 1
                    """));
                var denied = await Assert.ThrowsAsync<PostgresException>(() => raw.ExecuteAsync("SELECT askwealth.query_cache_disable_row_level_security()"));
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
            }

            // Off and on again: the policies go and come back, no row with them.
            var before = await admin.ExecuteScalarAsync<long>(CountEntries);
            Assert.True(await admin.ExecuteScalarAsync<int>("SELECT askwealth.query_cache_disable_row_level_security()") >= 7);
            await using (var raw = new NpgsqlConnection(app))
            {
                Assert.Equal(before, await raw.ExecuteScalarAsync<long>(CountEntries));
            }

            await admin.ExecuteAsync("SELECT askwealth.query_cache_enable_row_level_security()");
            Assert.Equal(before, await admin.ExecuteScalarAsync<long>(CountEntries));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await admin.ExecuteAsync($"DROP OWNED BY {role}; DROP ROLE {role}");
        }
    }

    [Fact]
    public async Task Granting_to_a_missing_or_unrestricted_role_is_refused_with_how_to_fix_it()
    {
        await using var connection = await OpenAsync();
        var missing = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("SELECT askwealth.query_cache_grant_to('no_such_role_here')"));
        Assert.Equal("42704", missing.SqlState);
        Assert.Contains("CREATE ROLE", missing.Hint, StringComparison.Ordinal);
        var superuser = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("SELECT askwealth.query_cache_grant_to(current_user)"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, superuser.SqlState);
    }

    private static async Task RunEveryOperationAsync(string app)
    {
        var chatModel = new CountingChatClient();
        await using var provider = DatabaseFixture.BuildServices(app, generator: new CountingEmbeddingGenerator(),
            services: s => s.AddChatClient(chatModel).UseSemanticCache());
        var cache = provider.GetRequiredService<QueryCacheService>();
        var (a, b) = (new CacheScope("tenant-a"), new CacheScope("tenant-b"));

        Assert.True(await cache.AddToCacheAsync(new CacheEntry { Scope = a, QueryText = "What are the fees?", Answer = "1%" }) > 0);
        Assert.True(await cache.AddToCacheAsync(new CacheEntry { Scope = b, QueryText = "What are the fees?", Answer = "2%" }) > 0);
        Assert.Equal("1%", (await cache.LookupAsync(new CacheQuery { Scope = a, Question = "What are the fees?" })).Hit?.Answer);
        Assert.Equal("2%", (await cache.LookupAsync(new CacheQuery { Scope = b, Question = "what are the fees? " })).Hit?.Answer);
        Assert.Null((await cache.LookupAsync(new CacheQuery { Scope = new CacheScope("tenant-c"), Question = "What are the fees?" })).Hit);

        var added = await cache.GetOrAddAsync("How do I open an ISA?", a, _ => Task.FromResult("Online."));
        Assert.Equal("Online.", added.Answer);
        Assert.True((await cache.GetOrAddAsync("How do I open an ISA?", a, _ => Task.FromResult("again"))).FromCache);

        var chat = provider.GetRequiredService<IChatClient>();
        var options = new ChatOptions().WithCacheScope(b);
        await chat.GetResponseAsync("Where are you based?", options);
        var hit = await chat.GetResponseAsync("Where are you based?", options);
        Assert.Equal(true, hit.AdditionalProperties?[SemanticCacheProperties.Hit]);
        Assert.Equal(1, chatModel.Calls);

        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 }, "tenant-a");
        Assert.Equal(0.9, (await cache.GetConfigAsync("tenant-a")).SimilarityThreshold);
        Assert.Equal(0.85, (await cache.GetConfigAsync()).SimilarityThreshold);
        Assert.Equal(2, (await cache.GetCacheStatsAsync("tenant-a")).TotalEntries);
        Assert.Equal(4, (await cache.GetCacheStatsAsync()).TotalEntries);

        var backfill = await cache.PopulateFromExistingAsync(new BackfillRequest());
        Assert.True(backfill.Added > 0, $"the backfill added nothing: {backfill}");
        var total = (await cache.GetCacheStatsAsync()).TotalEntries;
        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 1 }, "tenant-1");
        var cleanup = await cache.CleanupAsync();
        Assert.True(cleanup.Processed > 0);
        Assert.Equal(1, (await cache.GetCacheStatsAsync("tenant-1")).TotalEntries);
        Assert.Equal(total - cleanup.Processed, (await cache.GetCacheStatsAsync()).TotalEntries);

        var labels = Enumerable.Range(0, 60).Select(i => new DecisionLabel($"Question {i} reworded?", $"Question {i}?", 0.9, i % 2 == 0));
        Assert.Equal(60, await cache.AddLabelsAsync(labels, "tenant-a"));
        Assert.Equal("tenant-a", (await cache.FitDecisionAsync("tenant-a")).FittedFor);
        Assert.Equal(60, (await cache.GetDecisionAsync("tenant-a")).Labels);

        // Corroborated sharing: a waiting answer, an asker counted, the entry shared.
        await cache.UpdateConfigAsync(new CacheConfigUpdate { ShareAfterAskers = 2 }, "tenant-b");
        var ask = (string user) => cache.GetOrAddAsync(new CacheQuery { Scope = b, AskedByUserId = user, Question = "Do you charge for transfers?" },
            _ => Task.FromResult("No."), a => a);
        await ask("ann");
        await ask("ben");
        Assert.Equal(1, (await cache.GetCacheStatsAsync("tenant-b")).PromotedEntries);
        Assert.NotNull((await cache.LookupAsync(new CacheQuery { Scope = b, Question = "Do you charge for transfers?" })).Hit);
        Assert.Equal(1, await cache.InvalidateUserAsync("tenant-b", "ben"));

        var ofB = (await cache.GetCacheStatsAsync("tenant-b")).TotalEntries;
        Assert.Equal(ofB, await cache.InvalidateTenantAsync("tenant-b"));
        Assert.Equal(0, await cache.InvalidateUserAsync("tenant-a", "nobody"));
    }
}
