using System.Reflection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The chat middleware as a client of the public API: what a host that decorates the cache sees, and one failure policy.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The stand-in models hold nothing to dispose.")]
public sealed class ChatAdapterTests(DatabaseFixture database) : DatabaseTest(database)
{
    private static readonly CacheScope Alice = new("tenant-a", "alice");
    private readonly CountingChatClient _model = new();

    /// <summary>A host's decorator of the cache: forwards every call and notes its name.</summary>
    public class RecordingProxy : DispatchProxy
    {
        public IQueryCacheService Inner { get; set; } = null!;

        public List<string> Calls { get; } = [];

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            lock (Calls)
            {
                Calls.Add(targetMethod!.Name);
            }

            return targetMethod.Invoke(Inner, args);
        }
    }

    [Fact]
    public async Task A_decorated_cache_sees_every_chat_lookup_and_store()
    {
        RecordingProxy? proxy = null;
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator(), services: s =>
        {
            s.AddSingleton(sp =>
            {
                var cache = DispatchProxy.Create<IQueryCacheService, RecordingProxy>();
                proxy = (RecordingProxy)(object)cache;
                proxy.Inner = sp.GetRequiredService<QueryCacheService>();
                return cache;
            });
            s.AddChatClient(_model).UseSemanticCache();
        });
        var chat = provider.GetRequiredService<IChatClient>();
        var options = new ChatOptions().WithCacheScope(Alice);
        await chat.GetResponseAsync("What are the fees?", options);                               // miss: the pipeline runs
        var hit = await chat.GetResponseAsync("What are the fees?", options);                     // hit
        Assert.Equal(true, hit.AdditionalProperties?[SemanticCacheProperties.Hit]);
        await foreach (var _ in chat.GetStreamingResponseAsync("How do I open an ISA?", options))  // streamed miss, stored at the end
        {
        }

        Assert.Equal(1 + 1, _model.Calls);
        Assert.Equal(["GetOrAddAsync", "GetOrAddAsync", "LookupAsync", "AddToCacheAsync"], proxy!.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failing_database_is_one_policy_for_chat_and_get_or_add(bool failOpen)
    {
        await using var provider = DatabaseFixture.BuildServices("Host=127.0.0.1;Port=1;Database=x;Username=x;Password=x;Timeout=2",
            o => (o.FailOpen, o.BreakDuration, o.LookupTimeout, o.SingleFlightWait) = (failOpen, TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.Zero),
            new CountingEmbeddingGenerator(), s => s.AddChatClient(_model).UseSemanticCache());
        var chat = provider.GetRequiredService<IChatClient>();
        var cache = provider.GetRequiredService<IQueryCacheService>();
        if (failOpen)
        {
            Assert.Equal(CountingChatClient.AnswerTo("What are the fees?"), (await chat.GetResponseAsync("What are the fees?", new ChatOptions().WithCacheScope(Alice))).Text);
            Assert.Equal("answer", (await cache.GetOrAddAsync("What are the fees?", Alice, _ => Task.FromResult("answer"))).Answer);
            Assert.Equal(1, _model.Calls);
        }
        else
        {
            var fromChat = await Assert.ThrowsAnyAsync<Exception>(() => chat.GetResponseAsync("What are the fees?", new ChatOptions().WithCacheScope(Alice)));
            var fromCache = await Assert.ThrowsAnyAsync<Exception>(() => cache.GetOrAddAsync("What are the fees?", Alice, _ => Task.FromResult("answer")));
            Assert.Equal(fromCache.GetType(), fromChat.GetType());
            Assert.Equal(0, _model.Calls);
        }
    }

    [Fact]
    public async Task Chat_hits_are_audited_at_the_configured_share()
    {
        await using var provider = Database.BuildServices(o => o.AuditShare = 1, new CountingEmbeddingGenerator(),
            s => s.AddChatClient(_model).UseSemanticCache());
        var chat = provider.GetRequiredService<IChatClient>();
        var options = new ChatOptions().WithCacheScope(Alice);
        await chat.GetResponseAsync("What are the fees?", options);
        var audited = await chat.GetResponseAsync("What are the fees?", options);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(false, audited.AdditionalProperties?[SemanticCacheProperties.Hit]);
        await Eventually.TrueAsync(async () =>
            await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_labels WHERE source = 'audit'") == 1);
    }
}
