using Dapper;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

public sealed class ErasureTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Fact]
    public async Task Erasing_a_user_removes_their_private_and_shared_entries_and_a_later_backfill_does_not_bring_them_back()
    {
        await History.SeedAsync(Database.ConnectionString, conversations: 200);
        var generator = new CountingEmbeddingGenerator();
        await using var provider = Database.BuildServices(generator: generator);
        var cache = provider.GetRequiredService<QueryCacheService>();
        await cache.PopulateFromExistingAsync();
        await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("tenant-1", "user-1"), QueryText = "my private question", Answer = "private answer" });
        await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("tenant-1"), AskedByUserId = "user-1", QueryText = "my shared question", Answer = "shared answer" });

        await using var connection = await OpenAsync();
        const string Remaining = "SELECT count(*) FROM askwealth.query_cache_embeddings WHERE tenant_id = 'tenant-1' AND (user_id = 'user-1' OR asked_by = 'user-1')";
        var before = await connection.ExecuteScalarAsync<long>(Remaining);
        Assert.True(before > 2, "the seed gave user-1 of tenant-1 no backfilled entries");
        var total = await CountEntriesAsync();

        Assert.Equal(before, await cache.InvalidateUserAsync("tenant-1", "user-1"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(Remaining));
        Assert.Null(await cache.CheckCacheAsync("my shared question", new CacheScope("tenant-1")));
        Assert.Equal(total - before, await CountEntriesAsync());

        // The app still holds the messages: a new backfill skips them, and caches nothing of theirs.
        var rerun = await cache.PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal(0, rerun.Added);
        Assert.True(rerun.Skipped >= before - 2);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(Remaining));

        // The same user id in another tenant is someone else, untouched.
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings WHERE asked_by = 'user-1' AND tenant_id <> 'tenant-1'") > 0);

        // What the user asks after the erasure is cached again.
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at) VALUES
            (gen_random_uuid(), md5('after')::uuid, 'tenant-1', 'user-1', 'user', 'A question after the erasure', now() + interval '1 minute'),
            (gen_random_uuid(), md5('after')::uuid, 'tenant-1', 'user-1', 'assistant', 'An answer after the erasure', now() + interval '2 minutes')
            """);
        Assert.Equal(1, (await cache.PopulateFromExistingAsync(new BackfillRequest())).Added);
    }
}
