using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

public sealed class CleanupAndSchedulingTests(DatabaseFixture database) : DatabaseTest(database)
{
    private readonly Random _rng = new(21);

    [Fact]
    public async Task Cleanup_removes_expired_entries_first_then_keeps_exactly_the_cap_of_most_recently_hit()
    {
        await using var provider = Database.BuildServices(services: s => s.Configure<QueryCacheJobOptions>(o => o.CleanupBatchSize = 7));
        var cache = provider.GetRequiredService<QueryCacheService>();
        var vectors = new List<float[]>();
        for (var i = 0; i < 40; i++)
        {
            vectors.Add(Vectors.Random(_rng));
            await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("capped"), QueryText = $"q{i}", Answer = "a", Embedding = vectors[i] });
        }

        await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("other"), QueryText = "other", Answer = "a", Embedding = Vectors.Random(_rng) });
        await using (var connection = await OpenAsync())
        {
            // Creation order: q0 oldest. q30..q39 expire; q0..q4 are hit (so recently used despite their age).
            await connection.ExecuteAsync("""
                UPDATE askwealth.query_cache_embeddings
                SET created_at = now() - interval '1 day' + (id - (SELECT min(id) FROM askwealth.query_cache_embeddings)) * interval '1 minute'
                """);
            await connection.ExecuteAsync("UPDATE askwealth.query_cache_embeddings SET expires_at = now() - interval '1 minute' WHERE query_text IN ('q30','q31','q32','q33','q34','q35','q36','q37','q38','q39')");
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.NotNull(await cache.CheckCacheAsync(vectors[i], new CacheScope("capped")));
        }

        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 12 }, "capped");
        var run = await cache.CleanupAsync();
        Assert.Equal(JobRunStatus.Completed, run.Status);
        Assert.Equal(10 + 18, run.Processed);

        await using (var connection = await OpenAsync())
        {
            var kept = (await connection.QueryAsync<string>("SELECT query_text FROM askwealth.query_cache_embeddings WHERE tenant_id = 'capped' ORDER BY id")).ToList();
            // The 5 hit entries and the 7 newest never-hit entries among the unexpired (q23..q29).
            Assert.Equal(["q0", "q1", "q2", "q3", "q4", "q23", "q24", "q25", "q26", "q27", "q28", "q29"], kept);
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings WHERE tenant_id = 'other'"));
        }

        Assert.Equal(0, (await cache.CleanupAsync()).Processed);
    }

    [Fact]
    public async Task Two_clustered_schedulers_run_a_cleanup_firing_once_and_never_overlap_backfills()
    {
        await History.SeedAsync(Database.ConnectionString, conversations: 300);
        var schedulerName = $"querycache-test-{Guid.NewGuid():N}";
        var executions = new ConcurrentQueue<(string Instance, string Job, DateTimeOffset Start, DateTimeOffset End)>();
        await using var first = BuildClusteredHost(schedulerName, "node-a", executions);
        await using var second = BuildClusteredHost(schedulerName, "node-b", executions);
        var schedulers = new[]
        {
            await first.GetRequiredService<ISchedulerFactory>().GetScheduler(),
            await second.GetRequiredService<ISchedulerFactory>().GetScheduler(),
        };
        foreach (var scheduler in schedulers)
        {
            await scheduler.Start();
        }

        try
        {
            await first.GetRequiredService<IQueryCacheJobs>().TriggerCleanupAsync();
            await Eventually.TrueAsync(() => Task.FromResult(executions.Any(e => e.Job == "querycache-cleanup")));

            await first.GetRequiredService<IQueryCacheJobs>().TriggerBackfillAsync();
            await second.GetRequiredService<IQueryCacheJobs>().TriggerBackfillAsync();
            await Eventually.TrueAsync(() => Task.FromResult(executions.Count(e => e.Job == "querycache-backfill") == 2));
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        finally
        {
            foreach (var scheduler in schedulers)
            {
                await scheduler.Shutdown(waitForJobsToComplete: true);
            }
        }

        Assert.Single(executions, e => e.Job == "querycache-cleanup");
        var backfills = executions.Where(e => e.Job == "querycache-backfill").OrderBy(e => e.Start).ToList();
        Assert.Equal(2, backfills.Count);
        Assert.True(backfills[0].End <= backfills[1].Start, $"backfills overlapped: {backfills[0]} and {backfills[1]}");

        var status = await first.GetRequiredService<IQueryCacheJobs>().GetBackfillStatusAsync();
        Assert.Equal(JobRunStatus.Completed, status?.Status);
        Assert.Equal(await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.v_cached_qa_pairs"), await CountEntriesAsync());
        Assert.Equal(JobRunStatus.Completed, (await first.GetRequiredService<IQueryCacheJobs>().GetCleanupStatusAsync())?.Status);
    }

    private ServiceProvider BuildClusteredHost(string schedulerName, string instanceId,
        ConcurrentQueue<(string, string, DateTimeOffset, DateTimeOffset)> executions) =>
        Database.BuildServices(generator: new SlowEmbeddingGenerator(), services: services => services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(options =>
            {
                options.InstanceName = schedulerName;
                options.InstanceId = instanceId;
            });
            quartz.UseQueryCacheClusteredStore(Database.ConnectionString);
            quartz.AddQueryCacheJobs(options =>
            {
                options.BackfillBatchSize = 100;
                options.CleanupSchedule = null;
            });
            quartz.AddJobListener(new RecordingListener(instanceId, executions));
        }));

    private sealed class RecordingListener(string instance, ConcurrentQueue<(string, string, DateTimeOffset, DateTimeOffset)> executions) : IJobListener
    {
        private readonly ConcurrentDictionary<string, DateTimeOffset> _started = new();

        public string Name => "recording-" + instance;

        public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            _started[context.FireInstanceId] = DateTimeOffset.UtcNow;
            return ValueTask.CompletedTask;
        }

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
        {
            executions.Enqueue((instance, context.JobDetail.Key.Name, _started[context.FireInstanceId], DateTimeOffset.UtcNow));
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Slow enough that a second backfill would overlap the first if nothing prevented it.</summary>
    private sealed class SlowEmbeddingGenerator : Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public async Task<Microsoft.Extensions.AI.GeneratedEmbeddings<Microsoft.Extensions.AI.Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            Microsoft.Extensions.AI.EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            await Task.Delay(150, cancellationToken);
            return await _inner.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task The_cleanup_schedule_comes_from_a_bound_configuration_section_and_is_validated_at_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["QueryCache:Jobs:CleanupSchedule"] = "0 0/5 * * * ?",
            ["QueryCache:Jobs:CleanupBatchSize"] = "50",
        }).Build();
        await using (var provider = Database.BuildServices(services: s => s.AddQuartz(q => q.AddQueryCacheJobs(configuration.GetSection("QueryCache:Jobs")))))
        {
            var trigger = await (await provider.GetRequiredService<ISchedulerFactory>().GetScheduler()).GetTrigger(QueryCacheJobKeys.CleanupSchedule);
            Assert.Equal("0 0/5 * * * ?", Assert.IsAssignableFrom<ICronTrigger>(trigger).CronExpressionString);
            Assert.Equal(50, provider.GetRequiredService<IOptions<QueryCacheJobOptions>>().Value.CleanupBatchSize);
        }

        // The host's own Configure<QueryCacheJobOptions>(section) reaches the trigger too; empty means on demand only.
        await using (var provider = Database.BuildServices(services: s =>
        {
            s.Configure<QueryCacheJobOptions>(o => o.CleanupSchedule = "");
            s.AddQuartz(q => q.AddQueryCacheJobs());
        }))
        {
            var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
            Assert.Null(await scheduler.GetTrigger(QueryCacheJobKeys.CleanupSchedule));
            Assert.NotNull(await scheduler.GetJobDetail(QueryCacheJobKeys.Cleanup));
        }

        await using (var provider = Database.BuildServices(services: s => s.AddQuartz(q => q.AddQueryCacheJobs(o => o.CleanupSchedule = "every five minutes"))))
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<QueryCacheJobOptions>>().Value);
            Assert.Contains("CleanupSchedule 'every five minutes' is not a Quartz cron expression", error.Message);
        }

        await using (var provider = Database.BuildServices(services: s => s.Configure<QueryCacheJobOptions>(o => o.IndexBuildMemory = "lots")))
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<QueryCacheJobOptions>>().Value);
            Assert.Contains("IndexBuildMemory 'lots' is not a PostgreSQL memory size", error.Message);
        }
    }

    [Fact]
    public async Task A_large_eviction_rebuilds_the_hnsw_graphs_before_vacuuming_and_a_small_one_only_vacuums()
    {
        await using var provider = Database.BuildServices(services: s => s.Configure<QueryCacheJobOptions>(o =>
        {
            o.VacuumAfterDeletedEntries = 1;
            o.ReindexAfterDeletedFraction = 0.05;
        }));
        var cache = provider.GetRequiredService<QueryCacheService>();
        await TestData.InsertEntriesAsync(Database.ConnectionString,
            Enumerable.Range(0, 100).Select(i => new SeedEntry("t", null, Vectors.Random(_rng), $"q{i}")));
        await using var connection = await OpenAsync();
        const string IndexOid = "SELECT 'askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass::oid::bigint";
        const string TenantGraphOid = "SELECT askwealth.query_cache_tenant_graph('t')::oid::bigint";
        Assert.True(await cache.BuildTenantGraphAsync("t"));
        // What an interrupted rebuild leaves behind: an invalid index beside the real one.
        await connection.ExecuteAsync("""
            CREATE INDEX ix_query_cache_embeddings_embedding_hnsw_ccnew ON askwealth.query_cache_embeddings (id);
            UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'askwealth.ix_query_cache_embeddings_embedding_hnsw_ccnew'::regclass;
            """);

        // 1 of 100 (1%, under 5%): VACUUM repairs the graph, the index stays the same.
        var before = await connection.ExecuteScalarAsync<long>(IndexOid);
        var graphBefore = await connection.ExecuteScalarAsync<long>(TenantGraphOid);
        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 99 });
        Assert.Equal(1, (await cache.CleanupAsync()).Processed);
        Assert.Equal(before, await connection.ExecuteScalarAsync<long>(IndexOid));
        Assert.Equal(graphBefore, await connection.ExecuteScalarAsync<long>(TenantGraphOid));

        // 49 of 99: both graphs are built anew (a new relation under the same name), the leftover is gone, lookups still work.
        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 50 });
        Assert.Equal(49, (await cache.CleanupAsync()).Processed);
        Assert.NotEqual(before, await connection.ExecuteScalarAsync<long>(IndexOid));
        Assert.NotEqual(graphBefore, await connection.ExecuteScalarAsync<long>(TenantGraphOid));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'ix_query_cache_embeddings_embedding_hnsw_ccnew%'"));
        Assert.True(await connection.ExecuteScalarAsync<bool>("""
            SELECT indisvalid FROM pg_index WHERE indexrelid = 'askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass
            """));
        var kept = await connection.QueryFirstAsync<(string Text, float[] Vector)>(
            "SELECT query_text, embedding::vector::real[] FROM askwealth.query_cache_embeddings ORDER BY id LIMIT 1");
        Assert.Equal(kept.Text, (await cache.CheckCacheAsync(kept.Vector, new CacheScope("t")))?.QueryText);
    }
}
