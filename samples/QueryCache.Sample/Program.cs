// A backend that answers questions with an expensive pipeline, and asks QueryCache first.
// Run: QueryCache__ConnectionString="$(eng/db.sh start)" dotnet run --project samples/QueryCache.Sample
// then: curl -s localhost:5000/ask -H 'content-type: application/json' -d '{"tenant":"acme","question":"What are the fees?"}'
// (about 1 s), and again, or reworded (a few ms, "cached": true).
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Quartz;
using QueryCache;

var builder = WebApplication.CreateBuilder(args);

// The embedding model: all-MiniLM-L6-v2 in process (384 dimensions; migrate with QUERYCACHE_DIMENSIONS=384), which also
// names the model entries are stored under. An app with its provider's model (OpenAI, Azure, Ollama...) registers that
// instead, behind the embedding cache, and names it in QueryCache:EmbeddingModel and QueryCache:Dimensions:
//   builder.Services.AddEmbeddingGenerator(providerGenerator).UseQueryCacheEmbeddings();
builder.Services.AddQueryCache(builder.Configuration.GetSection("QueryCache"));
builder.Services.AddQueryCacheLocalEmbeddings();

// The host's RAG pipeline as an IChatClient, behind the semantic cache. The stand-in takes a second, as a real
// retrieval + LLM call does.
builder.Services.AddChatClient(new PipelineChatClient()).UseSemanticCache();
builder.Services.AddHealthChecks().AddQueryCache();

// Jobs: the backfill on demand, the cleanup every 15 minutes, run once across all instances by the clustered store.
builder.Services.AddQuartz(quartz =>
{
    quartz.UseQueryCacheClusteredStore(builder.Configuration["QueryCache:ConnectionString"]!);
    quartz.AddQueryCacheJobs(options => options.BackfillBatchSize = 500);
});
builder.Services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);

var app = builder.Build();
app.MapHealthChecks("/health");

app.MapPost("/ask", async (AskRequest request, IChatClient chat, CancellationToken cancellationToken) =>
{
    var watch = Stopwatch.StartNew();
    // Shared within the tenant: any user's paraphrase hits it. Pass the user too (new CacheScope(tenant, user)) when
    // answers carry personal data; each answer then serves only the user who asked.
    var options = new ChatOptions().WithCacheScope(new CacheScope(request.Tenant));
    var response = await chat.GetResponseAsync(request.Question, options, cancellationToken);
    var cached = response.AdditionalProperties?.TryGetValue(SemanticCacheProperties.Hit, out var hit) == true && hit is true;
    var similarity = response.AdditionalProperties?.TryGetValue(SemanticCacheProperties.Similarity, out var s) == true ? s as double? : null;
    return Results.Ok(new AskResponse(response.Text, cached, similarity, watch.ElapsedMilliseconds));
});

// Operator endpoints: start a backfill of the message history (on whichever instance picks it up) and watch it.
app.MapPost("/admin/backfill", async (IQueryCacheJobs jobs, string? tenant) =>
{
    await jobs.TriggerBackfillAsync(new BackfillRequest { TenantId = tenant });
    return Results.Accepted("/admin/backfill");
});
app.MapGet("/admin/backfill", async (IQueryCacheJobs jobs) => Results.Ok(await jobs.GetBackfillStatusAsync()));

app.Run();

internal sealed record AskRequest(string Tenant, string Question);

internal sealed record AskResponse(string Answer, bool Cached, double? Similarity, long ElapsedMs);

/// <summary>Stands in for the app's retrieval + LLM pipeline: a second per answer.</summary>
internal sealed class PipelineChatClient : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, $"(pipeline answer to: {messages.Last(m => m.Role == ChatRole.User).Text})"));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
