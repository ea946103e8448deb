using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

public sealed class BackfillTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Fact]
    public async Task Backfill_caches_exactly_one_entry_per_answered_user_message_and_a_second_run_adds_nothing()
    {
        var answered = await History.SeedAsync(Database.ConnectionString, conversations: 2000);
        Assert.Equal(answered, await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.v_cached_qa_pairs"));

        var generator = new CountingEmbeddingGenerator();
        await using var provider = Database.BuildServices(generator: generator,
            services: s => s.Configure<QueryCacheJobOptions>(o => o.BackfillBatchSize = 700));
        var cache = provider.GetRequiredService<QueryCacheService>();

        Assert.Equal(answered, await cache.PopulateFromExistingAsync());
        await AssertOneEntryPerPairAsync(answered);

        var status = await provider.GetRequiredService<QueryCacheService>().PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal(0, status.Added);
        Assert.Equal(answered, status.AlreadyCached);
        Assert.Equal(answered, status.Processed);
        Assert.Equal(JobRunStatus.Completed, status.Status);
        await AssertOneEntryPerPairAsync(answered);

        // Backfilled entries answer the questions they came from, shared within their tenant by default.
        var hit = await cache.CheckCacheAsync("How do I handle question 7.1?", new CacheScope("tenant-2", "someone-else"));
        Assert.Equal("Here is answer 7.1", hit?.Answer);
        Assert.Null(await cache.CheckCacheAsync("How do I handle question 7.1?", new CacheScope("tenant-3")));
    }

    [Fact]
    public async Task Backfill_resumes_from_its_checkpoint_after_its_connection_is_killed()
    {
        var answered = await History.SeedAsync(Database.ConnectionString, conversations: 600);
        var generator = new KillingEmbeddingGenerator(Database.ConnectionString, killOnCall: 3);
        await using var provider = Database.BuildServices(generator: generator, services: s => s.Configure<QueryCacheJobOptions>(o =>
        {
            o.BackfillBatchSize = 100;
            o.EmbeddingBatchSize = 100;
        }));
        var cache = provider.GetRequiredService<QueryCacheService>();

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => cache.PopulateFromExistingAsync());
        var interrupted = await ReadStatusAsync(provider);
        Assert.Equal(JobRunStatus.Interrupted, interrupted!.Status);
        Assert.Equal(200, interrupted.Processed);
        Assert.Equal(200, await CountEntriesAsync());

        var embeddedBefore = generator.Embedded;
        var resumed = await cache.PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal(JobRunStatus.Completed, resumed.Status);
        Assert.Equal(answered, resumed.Processed);
        Assert.Equal(answered, resumed.Added);
        // It resumed after the 200 committed pairs: nothing before the checkpoint was read or embedded again.
        Assert.Equal(answered - 200, generator.Embedded - embeddedBefore);
        await AssertOneEntryPerPairAsync(answered);
    }

    [Fact]
    public async Task Backfill_skips_unusable_pairs_and_failed_embeddings_without_failing_the_batch()
    {
        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at) VALUES
                (md5('q1')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'A good question', '2025-01-01T00:00:00Z'),
                (md5('a1')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'A good answer', '2025-01-01T00:00:01Z'),
                (md5('q2')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'Empty answer follows', '2025-01-01T00:00:02Z'),
                (md5('a2')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', '   ', '2025-01-01T00:00:03Z'),
                (md5('q3')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'FAIL to embed me', '2025-01-01T00:00:04Z'),
                (md5('a3')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'Never cached', '2025-01-01T00:00:05Z'),
                (md5('q4')::uuid, md5('c1')::uuid, 't', 'u', 'user', repeat('long ', 5000), '2025-01-01T00:00:06Z'),
                (md5('a4')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'Too long a question', '2025-01-01T00:00:07Z'),
                (md5('q5')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'Another good one', '2025-01-01T00:00:08Z'),
                (md5('a5')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'Another good answer', '2025-01-01T00:00:09Z')
                """);
        }

        await using var provider = Database.BuildServices(generator: new FailingEmbeddingGenerator());
        var status = await provider.GetRequiredService<QueryCacheService>().PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal((5L, 2L, 2L, 1L), (status.Processed, status.Added, status.Skipped, status.Failed));
        Assert.Equal(2, await CountEntriesAsync());
    }

    [Fact]
    public async Task Backfill_honours_tenant_and_date_filters_and_the_private_option()
    {
        var answered = await History.SeedAsync(Database.ConnectionString, conversations: 100);
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator(),
            services: s => s.Configure<QueryCacheJobOptions>(o => o.BackfillPrivateToUser = true));
        var cache = provider.GetRequiredService<QueryCacheService>();

        var since = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(50 * 100);
        var status = await cache.PopulateFromExistingAsync(new BackfillRequest { TenantId = "tenant-1", Since = since });
        var expected = await TestData.ScalarAsync(Database.ConnectionString,
            "SELECT count(*) FROM askwealth.v_cached_qa_pairs WHERE tenant_id = 'tenant-1' AND asked_at >= @since", new { since });
        Assert.Equal(expected, status.Added);
        Assert.Equal(expected, status.Total);
        Assert.Equal(expected, await CountEntriesAsync());
        Assert.Equal(0, await TestData.ScalarAsync(Database.ConnectionString,
            "SELECT count(*) FROM askwealth.query_cache_embeddings WHERE user_id IS NULL OR tenant_id <> 'tenant-1'"));

        // Private entries answer their own user only.
        var owner = await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_embeddings WHERE query_text = 'How do I handle question 51.1?' AND user_id = 'user-14'");
        Assert.Equal(1, owner);
        Assert.NotNull(await cache.CheckCacheAsync("How do I handle question 51.1?", new CacheScope("tenant-1", "user-14")));
        Assert.Null(await cache.CheckCacheAsync("How do I handle question 51.1?", new CacheScope("tenant-1", "user-15")));
        Assert.True(answered > expected);
    }

    [Fact]
    public async Task Two_backfills_never_run_at_once()
    {
        await History.SeedAsync(Database.ConnectionString, conversations: 50);
        var gate = new TaskCompletionSource();
        await using var provider = Database.BuildServices(generator: new GatedEmbeddingGenerator(gate.Task));
        var cache = provider.GetRequiredService<QueryCacheService>();
        var first = cache.PopulateFromExistingAsync();
        await Eventually.TrueAsync(async () => (await ReadStatusAsync(provider))?.Status == JobRunStatus.Running);

        var busy = await Assert.ThrowsAsync<QueryCacheJobBusyException>(() => cache.PopulateFromExistingAsync());
        Assert.Contains("already running", busy.Message);
        gate.SetResult();
        Assert.True(await first > 0);
    }

    private static Task<QueryCacheJobStatus?> ReadStatusAsync(ServiceProvider provider) =>
        provider.GetRequiredService<Jobs.JobStateStore>().ReadAsync(Jobs.MaintenanceJob.Backfill, CancellationToken.None);

    private async Task AssertOneEntryPerPairAsync(long answered)
    {
        await using var connection = await OpenAsync();
        var (entries, distinct, matched) = await connection.QuerySingleAsync<(long, long, long)>("""
            SELECT count(*), count(DISTINCT e.user_message_id),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM askwealth.v_cached_qa_pairs p
                                                  WHERE p.user_message_id = e.user_message_id AND p.assistant_message_id = e.assistant_message_id
                                                    AND p.answer = e.answer AND p.tenant_id = e.tenant_id))
            FROM askwealth.query_cache_embeddings e
            """);
        Assert.Equal((answered, answered, answered), (entries, distinct, matched));
    }

    /// <summary>Kills the backfill's database connection (the holder of its advisory lock) on the given embedding call.</summary>
    private sealed class KillingEmbeddingGenerator(string connectionString, int killOnCall) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public int Calls { get; private set; }
        public int Embedded { get; private set; }

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            if (Calls == killOnCall)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                var killed = await connection.ExecuteScalarAsync<int>("""
                    SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = 1363345409
                    """);
                Assert.Equal(1, killed);
            }

            var list = values.ToList();
            Embedded += list.Count;
            return await _inner.GenerateAsync(list, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Fails any batch holding a question with FAIL in it, and that question alone.</summary>
    private sealed class FailingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var list = values.ToList();
            return list.Any(v => v.Contains("FAIL", StringComparison.Ordinal))
                ? throw new HttpRequestException("the embedding service returned 500")
                : _inner.GenerateAsync(list, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Holds every embedding call until the gate opens.</summary>
    private sealed class GatedEmbeddingGenerator(Task gate) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            await gate.WaitAsync(cancellationToken);
            return await _inner.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
