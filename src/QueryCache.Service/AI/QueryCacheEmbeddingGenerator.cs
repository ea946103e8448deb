using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using QueryCache.Internal;

namespace QueryCache.AI;

/// <summary>
/// Caches an embedding generator's vectors in PostgreSQL, per model and normalized text: a batch is looked up in one
/// round trip, its misses go to the inner generator in one call and are stored in one more. A database failure costs
/// nothing but the cache: the inner generator answers.
/// </summary>
internal sealed class QueryCacheEmbeddingGenerator(
    IEmbeddingGenerator<string, Embedding<float>> innerGenerator,
    TextEmbeddingStore store,
    QueryCacheMetrics metrics,
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

        var model = ModelKey(options);
        var keys = texts.Select(t => new HashKey(QueryText.EmbeddingHash(t ?? throw new ArgumentException("A text to embed is null.", nameof(values))))).ToArray();
        var cached = await store.GetAsync(model, keys.ToHashSet(), cancellationToken).ConfigureAwait(false);

        // A text that occurs twice in the batch is embedded once.
        var missing = new Dictionary<HashKey, string>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (!cached.ContainsKey(keys[i]))
            {
                missing.TryAdd(keys[i], texts[i]);
            }
        }

        metrics.Embeddings(texts.Count - missing.Count, missing.Count);
        GeneratedEmbeddings<Embedding<float>>? generated = null;
        var fresh = new Dictionary<HashKey, Embedding<float>>(missing.Count);
        if (missing.Count > 0)
        {
            generated = await base.GenerateAsync(missing.Values.ToList(), options, cancellationToken).ConfigureAwait(false);
            if (generated.Count != missing.Count)
            {
                throw new InvalidOperationException(
                    $"The embedding generator returned {generated.Count} embeddings for {missing.Count} texts; it must return one per text, in order.");
            }

            var missingKeys = missing.Keys.ToList();
            for (var i = 0; i < missingKeys.Count; i++)
            {
                fresh[missingKeys[i]] = generated[i];
            }

            if (Storable(generated, out var problem))
            {
                await store.PutAsync(model, missingKeys, generated.Select(e => e.Vector).ToList(), cacheOptions.TimeToLive,
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                Log.EmbeddingsNotCached(logger, model, problem);
            }
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count) { Usage = generated?.Usage, AdditionalProperties = generated?.AdditionalProperties };
        for (var i = 0; i < texts.Count; i++)
        {
            result.Add(fresh.TryGetValue(keys[i], out var embedding)
                ? embedding
                : new Embedding<float>(cached[keys[i]]) { ModelId = options?.ModelId ?? _metadata?.DefaultModelId });
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

    /// <summary>Only vectors pgvector can store and compare are kept: a broken response must not be served for a month.</summary>
    private static bool Storable(GeneratedEmbeddings<Embedding<float>> embeddings, out string problem)
    {
        foreach (var embedding in embeddings)
        {
            problem = embedding.Vector.Length is 0 or > MaxDimensions
                ? $"a vector of {embedding.Vector.Length} dimensions (pgvector stores 1 to {MaxDimensions})"
                : Check.VectorProblem(embedding.Vector.Span) ?? "";
            if (problem.Length > 0)
            {
                return false;
            }
        }

        problem = "";
        return true;
    }

    /// <summary>pgvector's largest <c>vector</c>.</summary>
    private const int MaxDimensions = 16_000;
}
