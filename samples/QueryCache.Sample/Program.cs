// A backend that answers questions with an expensive pipeline, and asks QueryCache first.
// Run: QueryCache__ConnectionString="$(eng/db.sh start)" dotnet run --project samples/QueryCache.Sample
// then: curl -s localhost:5000/ask -H 'content-type: application/json' -d '{"tenant":"acme","user":"u1","question":"What are the fees?"}'
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Quartz;
using QueryCache;

var builder = WebApplication.CreateBuilder(args);

// The host's embedding model. A real app registers its provider's generator (OpenAI, Azure, Ollama...);
// this sample uses the built-in offline stand-in. QueryCache:EmbeddingModel must name the model you register.
builder.Services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new LocalNgramEmbeddingGenerator(dimensions: 1536));
builder.Services.AddQueryCache(builder.Configuration.GetSection("QueryCache"));
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

app.MapPost("/ask", async (AskRequest request, IQueryCacheService cache, IEmbeddingGenerator<string, Embedding<float>> embedder,
    CancellationToken cancellationToken) =>
{
    var scope = new CacheScope(request.Tenant, request.User);
    var watch = Stopwatch.StartNew();

    // 1. Before the pipeline: a close enough question answered before?
    var embedding = (await embedder.GenerateAsync(request.Question, cancellationToken: cancellationToken)).Vector;
    var lookup = await cache.LookupAsync(new CacheQuery { Scope = scope, Question = request.Question, Embedding = embedding }, cancellationToken);
    if (lookup.Hit is { } hit)
    {
        return Results.Ok(new AskResponse(hit.Answer, Cached: true, hit.Similarity, watch.ElapsedMilliseconds));
    }

    // 2. The expensive part: retrieval + LLM (1-5 s in a real app).
    await Task.Delay(1500, cancellationToken);
    var answer = $"(pipeline answer to: {request.Question})";

    // 3. After the pipeline: store it for the next person who asks the same thing.
    await cache.AddToCacheAsync(new CacheEntry
    {
        Scope = scope with { UserId = null }, // shared within the tenant
        UserMessageId = request.MessageId,
        QueryText = request.Question,
        Answer = answer,
        Embedding = embedding,
    }, cancellationToken);
    return Results.Ok(new AskResponse(answer, Cached: false, Similarity: null, watch.ElapsedMilliseconds));
});

// Operator endpoints: start a backfill of the message history (on whichever instance picks it up) and watch it.
app.MapPost("/admin/backfill", async (IQueryCacheJobs jobs, string? tenant) =>
{
    await jobs.TriggerBackfillAsync(new BackfillRequest { TenantId = tenant });
    return Results.Accepted("/admin/backfill");
});
app.MapGet("/admin/backfill", async (IQueryCacheJobs jobs) => Results.Ok(await jobs.GetBackfillStatusAsync()));

app.Run();

internal sealed record AskRequest(string Tenant, string? User, string Question, Guid? MessageId = null);

internal sealed record AskResponse(string Answer, bool Cached, double? Similarity, long ElapsedMs);
