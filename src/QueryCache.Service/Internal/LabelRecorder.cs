using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>One observed outcome of serving (or judging) a cached answer, for <see cref="QueryCacheSchema.Labels"/>.</summary>
internal sealed record Label(string? TenantId, string? UserId, string Question, string CachedQuestion, double Similarity, bool Right,
    string Source, long? EntryId = null);

/// <summary>
/// Writes labels to PostgreSQL: at once for the caller who waits on them (feedback, labelled pairs), or in the
/// background, off the request path, for the verifier's verdicts and audits — at most 10,000 pending; past that a label
/// is dropped with a warning, and a failed write is dropped too: labels are evidence, not worth failing a request for.
/// </summary>
internal sealed class LabelRecorder : IAsyncDisposable
{
    private const int MaxPending = 10_000;
    private readonly CacheDataSource _database;
    private readonly string _model;
    private readonly ILogger<LabelRecorder> _logger;
    private readonly ConcurrentQueue<Label> _pending = new();
    private readonly BackgroundDrain _writer;

    public LabelRecorder(CacheDataSource database, IOptions<QueryCacheOptions> options, ILogger<LabelRecorder> logger)
    {
        _database = database;
        _model = options.Value.EmbeddingModel;
        _logger = logger;
        _writer = new BackgroundDrain(async () =>
        {
            var batch = new List<Label>();
            while (batch.Count < 500 && _pending.TryDequeue(out var label))
            {
                batch.Add(label);
            }

            try
            {
                await WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.LabelsDropped(_logger, ex, batch.Count);
            }

            return !_pending.IsEmpty;
        });
    }

    /// <summary>Queues a label for the background writer.</summary>
    public void Record(Label label)
    {
        if (_pending.Count >= MaxPending)
        {
            Log.LabelsDropped(_logger, null, 1);
            return;
        }

        _pending.Enqueue(label);
        _writer.Signal();
    }

    /// <summary>Writes labels now, in one statement; the caller sees a failure.</summary>
    public async Task WriteAsync(IReadOnlyList<Label> labels, CancellationToken cancellationToken)
    {
        if (labels.Count == 0)
        {
            return;
        }

        using var connection = _database.Primary.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(CacheStatements.InsertLabels, new
        {
            Tenants = labels.Select(l => l.TenantId).ToArray(),
            Users = labels.Select(l => l.UserId).ToArray(),
            Models = labels.Select(_ => _model).ToArray(),
            Questions = labels.Select(l => l.Question).ToArray(),
            CachedQuestions = labels.Select(l => l.CachedQuestion).ToArray(),
            Similarities = labels.Select(l => Math.Clamp(l.Similarity, -1, 1)).ToArray(),
            Rights = labels.Select(l => l.Right).ToArray(),
            Sources = labels.Select(l => l.Source).ToArray(),
            EntryIds = labels.Select(l => l.EntryId).ToArray(),
        }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Lets the background writer finish what is queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _writer.Signal();
        await _writer.WhenIdleAsync().ConfigureAwait(false);
    }
}
