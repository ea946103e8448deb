using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using QueryCache.Embeddings.Local;

namespace QueryCache;

/// <summary>
/// all-MiniLM-L6-v2 (sentence-transformers; 384 dimensions, unit length) in process on ONNX Runtime, offline: the
/// embedding model QueryCache uses wherever no endpoint is configured. Thread-safe; the model loads once per process
/// (on the first embedding, about a second) and is shared by every instance. Text longer than the model's window is cut
/// to its first <see cref="MaxTokens"/> word pieces, as sentence-transformers does.
/// </summary>
public sealed class LocalEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model's name, stored with every entry it embeds.</summary>
    public const string ModelName = "sentence-transformers/all-MiniLM-L6-v2";

    /// <summary>The vectors' size.</summary>
    public const int Dimensions = 384;

    /// <summary>
    /// The window, in word pieces with [CLS] and [SEP]: sentence-transformers' <c>max_seq_length</c> for this model (it
    /// was trained on 128; its position table has 512).
    /// </summary>
    public const int MaxTokens = 256;

    // Windows of texts tokenized, sorted by length and embedded together: bounds what a large call holds at once.
    private const int BatchesPerWindow = 8;

    private static readonly ConcurrentDictionary<int, Lazy<MiniLmModel>> Models = new();

    private readonly Lazy<MiniLmModel> _model;
    private readonly int _maxBatchSize;
    private readonly EmbeddingGeneratorMetadata _metadata = new("QueryCache.Embeddings.Local", providerUri: null, ModelName, Dimensions);

    /// <param name="options">How to run the model; null for the defaults.</param>
    public LocalEmbeddingGenerator(LocalEmbeddingOptions? options = null)
    {
        options ??= new LocalEmbeddingOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads, nameof(options.IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options.MaxBatchSize));
        _maxBatchSize = options.MaxBatchSize;
        _model = Models.GetOrAdd(options.IntraOpThreads, threads => new Lazy<MiniLmModel>(() => MiniLmModel.Load(threads)));
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is { } dimensions && dimensions != Dimensions)
        {
            throw new ArgumentException($"{ModelName} produces {Dimensions} dimensions and {dimensions} were asked for; leave Dimensions unset.", nameof(options));
        }

        var texts = values as IReadOnlyList<string> ?? [.. values];
        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                throw new ArgumentException($"Text {i} to embed is empty; pass the question's text.", nameof(values));
            }
        }

        var vectors = new float[texts.Count][];
        var window = _maxBatchSize * BatchesPerWindow;
        for (var start = 0; start < texts.Count; start += window)
        {
            EmbedWindow(texts, start, Math.Min(window, texts.Count - start), vectors, cancellationToken);
        }

        var now = DateTimeOffset.UtcNow;
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(
            vectors.Select(v => new Embedding<float>(v) { ModelId = ModelName, CreatedAt = now })));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Nothing to release: the model is shared by the process.</summary>
    public void Dispose()
    {
    }

    private void EmbedWindow(IReadOnlyList<string> texts, int start, int count, float[][] vectors, CancellationToken cancellationToken)
    {
        var model = _model.Value;
        var tokenized = new (int Index, int[] Ids)[count];
        for (var i = 0; i < count; i++)
        {
            tokenized[i] = (start + i, model.Tokenize(texts[start + i]));
        }

        // Similar lengths side by side: each forward pass pads to its longest text.
        Array.Sort(tokenized, (a, b) => a.Ids.Length.CompareTo(b.Ids.Length));
        foreach (var batch in tokenized.Chunk(_maxBatchSize))
        {
            var embedded = model.Embed([.. batch.Select(t => t.Ids)], cancellationToken);
            for (var i = 0; i < batch.Length; i++)
            {
                vectors[batch[i].Index] = embedded[i];
            }
        }
    }
}
