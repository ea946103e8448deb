using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The Microsoft.Extensions.AI middleware against the real database, with counting stand-ins for the models.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The stand-in models hold nothing to dispose.")]
public sealed class AIMiddlewareTests(DatabaseFixture database) : DatabaseTest(database)
{
    private readonly CountingChatClient _model = new();
    private readonly CountingEmbeddingGenerator _embedder = new();

    private static readonly CacheScope Alice = new("tenant-a", "alice");

    private ServiceProvider Chat(Action<SemanticCacheOptions>? configure = null) =>
        Database.BuildServices(generator: _embedder, services: s => s.AddChatClient(_model).UseSemanticCache(configure));

    private static Task<ChatResponse> AskAsync(IChatClient client, string question, CacheScope? scope, ChatOptions? options = null)
    {
        options ??= new ChatOptions();
        return client.GetResponseAsync([new ChatMessage(ChatRole.System, "You answer wealth questions."), new ChatMessage(ChatRole.User, question)],
            scope is null ? options : options.WithCacheScope(scope));
    }

    private static async Task<string> StreamAsync(IChatClient client, string question, CacheScope scope, CancellationToken ct = default)
    {
        var text = "";
        await foreach (var update in client.GetStreamingResponseAsync(question, new ChatOptions().WithCacheScope(scope), ct))
        {
            text += update.Text;
        }

        return text;
    }

    private static async Task<bool> CachedAsync(ServiceProvider provider, string question, CacheScope scope) =>
        await provider.GetRequiredService<IQueryCacheService>().CheckCacheAsync(question, scope) is not null;

    [Fact]
    public async Task A_hit_skips_the_inner_client_and_says_so_in_the_response()
    {
        await using var provider = Chat();
        var client = provider.GetRequiredService<IChatClient>();

        var first = await AskAsync(client, "What is the ISA allowance?", Alice);
        Assert.Equal(false, first.AdditionalProperties?[SemanticCacheProperties.Hit]);
        var second = await AskAsync(client, "what is the  ISA allowance?", Alice);

        Assert.Equal(1, _model.Calls);
        Assert.Equal(CountingChatClient.AnswerTo("What is the ISA allowance?"), second.Text);
        Assert.Equal(ChatRole.Assistant, second.Messages.Single().Role);
        Assert.Equal(true, second.AdditionalProperties?[SemanticCacheProperties.Hit]);
        Assert.Equal(1.0, (double)second.AdditionalProperties![SemanticCacheProperties.Similarity]!, 6);
        Assert.True((long)second.AdditionalProperties[SemanticCacheProperties.EntryId]! > 0);
    }

    [Fact]
    public async Task A_streamed_hit_replays_the_answer_and_a_completed_stream_is_stored()
    {
        await using var provider = Chat();
        var client = provider.GetRequiredService<IChatClient>();

        var streamed = await StreamAsync(client, "How do I open a SIPP?", Alice);
        Assert.Equal(CountingChatClient.AnswerTo("How do I open a SIPP?"), streamed);
        Assert.Equal(1, _model.Calls);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("How do I open a SIPP?", new ChatOptions().WithCacheScope(Alice)))
        {
            updates.Add(update);
        }

        Assert.Equal(1, _model.Calls);
        Assert.Equal(streamed, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(true, updates[^1].AdditionalProperties?[SemanticCacheProperties.Hit]);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task An_errored_cancelled_or_abandoned_stream_stores_nothing()
    {
        await using var provider = Chat();
        var client = provider.GetRequiredService<IChatClient>();

        _model.FailMidStream = true;
        await Assert.ThrowsAsync<HttpRequestException>(() => StreamAsync(client, "Can I transfer my pension?", Alice));
        _model.FailMidStream = false;

        using var cancellation = new CancellationTokenSource();
        _model.Delay = TimeSpan.FromMilliseconds(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync("Can I transfer my pension?", new ChatOptions().WithCacheScope(Alice), cancellation.Token))
            {
                await cancellation.CancelAsync();
            }
        });

        await foreach (var _ in client.GetStreamingResponseAsync("Can I transfer my pension?", new ChatOptions().WithCacheScope(Alice)))
        {
            break;
        }

        Assert.Equal(3, _model.Calls);
        Assert.False(await CachedAsync(provider, "Can I transfer my pension?", Alice));
    }

    [Fact]
    public async Task Tool_calls_are_not_cached_and_requests_with_tools_or_a_conversation_pass_through_unless_opted_in()
    {
        await using (var provider = Chat())
        {
            var client = provider.GetRequiredService<IChatClient>();
            _model.CallTool = true;
            await AskAsync(client, "What is my balance?", Alice);
            Assert.False(await CachedAsync(provider, "What is my balance?", Alice));
            _model.CallTool = false;

            var tools = new ChatOptions { Tools = [AIFunctionFactory.Create(() => 42, "get_balance")] };
            await AskAsync(client, "What are the fees?", Alice, tools);
            await AskAsync(client, "What are the fees?", Alice, new ChatOptions { Tools = tools.Tools });
            await AskAsync(client, "What is a LISA?", Alice, new ChatOptions { ConversationId = "c1" });
            await AskAsync(client, "What is a LISA?", Alice, new ChatOptions { ConversationId = "c1" });
            Assert.Equal(5, _model.Calls);
            Assert.False(await CachedAsync(provider, "What are the fees?", Alice));
        }

        await using (var optedIn = Chat(o => (o.CacheRequestsWithTools, o.CacheRequestsInConversations) = (true, true)))
        {
            var client = optedIn.GetRequiredService<IChatClient>();
            await AskAsync(client, "What are the fees?", Alice, new ChatOptions { Tools = [AIFunctionFactory.Create(() => 42, "get_balance")] });
            await AskAsync(client, "What is a LISA?", Alice, new ChatOptions { ConversationId = "c1" });
            Assert.True(await CachedAsync(optedIn, "What are the fees?", Alice));
            Assert.True(await CachedAsync(optedIn, "What is a LISA?", Alice));
        }
    }

    [Fact]
    public async Task Without_a_scope_requests_pass_through_and_the_scope_never_reaches_the_inner_client()
    {
        var seen = new ConcurrentBag<ChatOptions?>();
        await using var provider = Database.BuildServices(generator: _embedder, services: s => s.AddChatClient(_model)
            .UseSemanticCache()
            .Use((messages, options, next, ct) =>
            {
                seen.Add(options);
                return next(messages, options, ct);
            }));
        var client = provider.GetRequiredService<IChatClient>();

        await AskAsync(client, "What is the ISA allowance?", scope: null);
        await AskAsync(client, "What is the ISA allowance?", scope: null);
        Assert.Equal(2, _model.Calls);
        await using (var connection = new NpgsqlConnection(Database.ConnectionString))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings"));
        }

        await AskAsync(client, "What is the ISA allowance?", Alice);
        Assert.All(seen, options => Assert.Null(options.GetCacheScope()));
        Assert.Throws<ArgumentException>(() => new ChatOptions().WithCacheScope(new CacheScope("")));
    }

    [Fact]
    public async Task Two_tenants_never_share_an_answer()
    {
        await using var provider = Chat();
        var client = provider.GetRequiredService<IChatClient>();

        await AskAsync(client, "What are your fees?", new CacheScope("tenant-a"));
        var other = await AskAsync(client, "What are your fees?", new CacheScope("tenant-b"));
        Assert.Equal(false, other.AdditionalProperties?[SemanticCacheProperties.Hit]);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(true, (await AskAsync(client, "What are your fees?", new CacheScope("tenant-a"))).AdditionalProperties?[SemanticCacheProperties.Hit]);
    }

    [Fact]
    public async Task Identical_concurrent_misses_share_one_inner_call()
    {
        _model.Delay = TimeSpan.FromMilliseconds(500);
        await using var provider = Chat();
        var client = provider.GetRequiredService<IChatClient>();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => AskAsync(client, "Should I pay into a pension or an ISA?", Alice)));

        Assert.Equal(1, _model.Calls);
        Assert.All(answers, a => Assert.Equal(CountingChatClient.AnswerTo("Should I pay into a pension or an ISA?"), a.Text));
    }

    [Fact]
    public async Task A_batch_of_100_texts_with_60_cached_takes_one_lookup_round_trip_and_one_inner_call_for_40()
    {
        // A database of its own, so that the round trips counted are this test's.
        var connection = await Database.CreateDatabaseAsync("embedding_batch");
        await QueryCache.Migrations.QueryCacheMigrator.MigrateAsync(connection, DatabaseFixture.Dimensions);
        await using var provider = DatabaseFixture.BuildServices(connection,
            services: s => s.AddEmbeddingGenerator(_embedder).UseQueryCacheEmbeddings());
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var texts = Enumerable.Range(0, 100).Select(i => $"What is the allowance for year {i}?").ToArray();
        var first = await generator.GenerateAsync(texts.Take(60));
        Assert.Equal(60, _embedder.Values);

        var database = new NpgsqlConnectionStringBuilder(connection).Database!;
        var commands = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.Tags.Any(t => t.Value == database))
                {
                    commands.Enqueue(activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var all = await generator.GenerateAsync(texts);

        Assert.Equal(2, _embedder.Calls);
        Assert.Equal(100, _embedder.Values);
        Assert.Equal(2, commands.Count); // one SELECT for the whole batch, one INSERT for its 40 misses
        Assert.Equal(100, all.Count);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(_embedder.Embed(texts[i]), all[i].Vector.ToArray());
        }

        Assert.Equal(first[0].Vector.ToArray(), all[0].Vector.ToArray());
        Assert.Equal(5, (await generator.GenerateAsync(texts.Take(5))).Count);
        Assert.Equal(2, _embedder.Calls);
    }

    [Fact]
    public async Task Cached_vectors_are_kept_per_model_and_expire()
    {
        await using var provider = Database.BuildServices(
            services: s => s.AddEmbeddingGenerator(_embedder).UseQueryCacheEmbeddings(o => o.TimeToLive = TimeSpan.FromSeconds(2)));
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        await generator.GenerateAsync(["What is a SIPP?"]);
        await generator.GenerateAsync(["  What is a   SIPP? "]);
        Assert.Equal(1, _embedder.Calls);
        await generator.GenerateAsync(["What is a SIPP?"], new EmbeddingGenerationOptions { ModelId = "another-model" });
        Assert.Equal(2, _embedder.Calls);
        await generator.GenerateAsync(["what is a sipp?"]);
        Assert.Equal(3, _embedder.Calls);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await generator.GenerateAsync(["What is a SIPP?"]);
        Assert.Equal(4, _embedder.Calls);

        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.ExecuteAsync("UPDATE askwealth.query_cache_text_embeddings SET expires_at = now() - interval '1 second'");
        await provider.GetRequiredService<IQueryCacheService>().CleanupAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_text_embeddings"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingGeneratorBuilder<string, Embedding<float>>(_embedder)
            .UseQueryCacheEmbeddings(o => o.TimeToLive = TimeSpan.Zero));
    }

    [Fact]
    public async Task The_two_line_integration_works_without_arguments()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddQueryCache(o =>
        {
            o.ConnectionString = Database.ConnectionString;
            o.Dimensions = DatabaseFixture.Dimensions;
            o.EmbeddingModel = DatabaseFixture.EmbeddingModel;
        });
        services.AddEmbeddingGenerator(_embedder).UseQueryCacheEmbeddings();
        services.AddChatClient(_model).UseSemanticCache();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var client = provider.GetRequiredService<IChatClient>();

        await client.GetResponseAsync("What is the ISA allowance?", new ChatOptions().WithCacheScope(new CacheScope("tenant-a")));
        var again = await client.GetResponseAsync("What is the ISA allowance?", new ChatOptions().WithCacheScope(new CacheScope("tenant-a")));

        Assert.Equal(true, again.AdditionalProperties?[SemanticCacheProperties.Hit]);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(1, _embedder.Calls);
    }

    [Fact]
    public async Task Both_middlewares_are_measured_on_the_QueryCache_meter()
    {
        await using var provider = Database.BuildServices(services: s =>
        {
            s.AddEmbeddingGenerator(_embedder).UseQueryCacheEmbeddings();
            s.AddChatClient(_model).UseSemanticCache();
        });
        var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var requests = new MetricCollector<long>(factory, "QueryCache", "querycache.chat.requests");
        using var embeddings = new MetricCollector<long>(factory, "QueryCache", "querycache.embeddings");
        using var stores = new MetricCollector<long>(factory, "QueryCache", "querycache.stores");
        var client = provider.GetRequiredService<IChatClient>();

        await AskAsync(client, "What is a Junior ISA?", Alice);
        await AskAsync(client, "What is a Junior ISA?", Alice);
        await StreamAsync(client, "What is a Junior ISA?", Alice);
        await AskAsync(client, "What is a Junior ISA?", scope: null);
        await provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>().GenerateAsync(["What is a Junior ISA?", "What is a SIPP?"]);

        string? Tag(CollectedMeasurement<long> m, string name) => m.Tags.TryGetValue(name, out var v) ? v?.ToString() : null;
        var chat = requests.GetMeasurementSnapshot();
        Assert.Equal(1, chat.Count(m => Tag(m, "querycache.result") == "miss"));
        Assert.Equal(2, chat.Count(m => Tag(m, "querycache.result") == "hit"));
        Assert.Equal(1, chat.Count(m => Tag(m, "querycache.result") == "bypass" && Tag(m, "querycache.reason") == "no_scope"));
        Assert.Equal(1, chat.Count(m => Tag(m, "querycache.result") == "hit" && Tag(m, "querycache.streaming") == "True"));
        Assert.Equal(1, stores.GetMeasurementSnapshot().Count(m => Tag(m, "querycache.result") == "stored"));
        var texts = embeddings.GetMeasurementSnapshot();
        Assert.Equal(1, texts.Where(m => Tag(m, "querycache.result") == "hit").Sum(m => m.Value));
        Assert.Equal(2, texts.Where(m => Tag(m, "querycache.result") == "miss").Sum(m => m.Value));
    }
}
