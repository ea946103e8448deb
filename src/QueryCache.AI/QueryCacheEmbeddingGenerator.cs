using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace QueryCache.AI;

/// <summary>
/// Caches an embedding generator's vectors in PostgreSQL (<see cref="IEmbeddingCache"/>), per model and text: a batch is
/// looked up in one round trip, its misses go to the inner generator in one call and are stored in one more. A
/// database failure costs nothing but the cache: the inner generator answers.
/// </summary>
internal sealed class QueryCacheEmbeddingGenerator(
    IEmbeddingGenerator<string, Embedding<float>> innerGenerator,
    IEmbeddingCache store,
    AIMetrics metrics,
    QueryCacheEmbeddingOptions cacheOptions,
    string cacheModel,
    ILogger<QueryCacheEmbeddingGenerator> logger)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(innerGenerator)
{
    private readonly EmbeddingGeneratorMetadata? _metadata = innerGenerator.GetService<EmbeddingGeneratorMetadata>();

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        if (texts.Count == 0)
        {
            return await base.GenerateAsync(texts, options, cancellationToken).ConfigureAwait(false);
        }

        if (texts.Any(t => t is null))
        {
            throw new ArgumentException("A text to embed is null.", nameof(values));
        }

        var model = ModelKey(options);
        var cached = await store.GetAsync(model, texts, cancellationToken).ConfigureAwait(false);

        // A text that occurs twice in the batch is embedded once.
        var missing = texts.Where((_, i) => cached[i] is null).Distinct(StringComparer.Ordinal).ToList();
        var hits = cached.Count(v => v is not null);
        metrics.Embeddings(hits, texts.Count - hits);
        GeneratedEmbeddings<Embedding<float>>? generated = null;
        var fresh = new Dictionary<string, Embedding<float>>(missing.Count, StringComparer.Ordinal);
        if (missing.Count > 0)
        {
            generated = await base.GenerateAsync(missing, options, cancellationToken).ConfigureAwait(false);
            if (generated.Count != missing.Count)
            {
                throw new InvalidOperationException(
                    $"The embedding generator returned {generated.Count} embeddings for {missing.Count} texts; it must return one per text, in order.");
            }

            for (var i = 0; i < missing.Count; i++)
            {
                fresh[missing[i]] = generated[i];
            }

            if (await store.SetAsync(model, missing, [.. generated.Select(e => e.Vector)], cacheOptions.TimeToLive, cancellationToken)
                    .ConfigureAwait(false) is { } problem)
            {
                Log.EmbeddingsNotCached(logger, model, problem);
            }
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count) { Usage = generated?.Usage, AdditionalProperties = generated?.AdditionalProperties };
        for (var i = 0; i < texts.Count; i++)
        {
            result.Add(fresh.TryGetValue(texts[i], out var embedding)
                ? embedding
                : new Embedding<float>(cached[i]!.Value) { ModelId = options?.ModelId ?? _metadata?.DefaultModelId });
        }

        return result;
    }

    /// <summary>
    /// The model (and requested dimension) the vectors are cached under: the request's, the configured one, the one the
    /// generator reports, else the cache's <see cref="QueryCacheOptions.EmbeddingModel"/>.
    /// </summary>
    private string ModelKey(EmbeddingGenerationOptions? requestOptions)
    {
        var model = requestOptions?.ModelId ?? cacheOptions.ModelId ?? _metadata?.DefaultModelId ?? cacheModel;
        var dimensions = requestOptions?.Dimensions ?? _metadata?.DefaultModelDimensions;
        return dimensions is null ? model : $"{model}/{dimensions}";
    }
}
