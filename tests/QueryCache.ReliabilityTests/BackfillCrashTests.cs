using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

public sealed class BackfillCrashTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Fact]
    public async Task A_backfill_killed_or_cancelled_at_random_batches_ends_with_exactly_one_entry_per_answered_message()
    {
        var answered = await History.SeedAsync(Database.ConnectionString, conversations: 800);
        var rng = new Random(17);
        var generator = new SabotagingGenerator(Database.ConnectionString);
        await using var provider = Database.BuildServices(generator: generator, services: s => s.Configure<QueryCacheJobOptions>(o =>
        {
            o.BackfillBatchSize = 60;
            o.EmbeddingBatchSize = 60;
        }));
        var cache = provider.GetRequiredService<QueryCacheService>();

        var interruptions = 0;
        for (var round = 0; round < 12; round++)
        {
            using var cancellation = new CancellationTokenSource();
            generator.Arm(afterCalls: rng.Next(1, 4), kill: round % 2 == 0, cancellation);
            try
            {
                var status = await cache.PopulateFromExistingAsync(new BackfillRequest(), cancellationToken: cancellation.Token);
                Assert.Equal(JobRunStatus.Completed, status.Status);
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
            {
                interruptions++;
            }
        }

        Assert.True(interruptions >= 5, $"only {interruptions} interruptions happened");
        generator.Disarm();
        var final = await cache.PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal(JobRunStatus.Completed, final.Status);

        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        var (entries, distinct, missing) = await connection.QuerySingleAsync<(long, long, long)>("""
            SELECT (SELECT count(*) FROM askwealth.query_cache_embeddings),
                   (SELECT count(DISTINCT user_message_id) FROM askwealth.query_cache_embeddings),
                   (SELECT count(*) FROM askwealth.v_cached_qa_pairs p
                    WHERE NOT EXISTS (SELECT 1 FROM askwealth.query_cache_embeddings e WHERE e.user_message_id = p.user_message_id))
            """);
        Assert.Equal((answered, answered, 0L), (entries, distinct, missing));
    }

    /// <summary>After a given number of embedding calls, kills the backfill's connection or cancels the run.</summary>
    private sealed class SabotagingGenerator(string connectionString) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();
        private int _remaining = int.MaxValue;
        private bool _kill;
        private CancellationTokenSource? _cancellation;

        public void Arm(int afterCalls, bool kill, CancellationTokenSource cancellation) =>
            (_remaining, _kill, _cancellation) = (afterCalls, kill, cancellation);

        public void Disarm() => _remaining = int.MaxValue;

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (--_remaining == 0)
            {
                if (_kill)
                {
                    // Waits until the backend is gone, so its advisory lock is released before the run notices the failure.
                    await using var connection = new NpgsqlConnection(connectionString);
                    await connection.ExecuteAsync("""
                        SELECT pg_terminate_backend(pid, 5000) FROM pg_locks
                        WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = 1363345409
                        """);
                }
                else
                {
                    await _cancellation!.CancelAsync();
                }
            }

            return await _inner.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
