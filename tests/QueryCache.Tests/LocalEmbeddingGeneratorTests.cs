using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The in-process sentence model: the real all-MiniLM-L6-v2, no database.</summary>
public sealed class LocalEmbeddingGeneratorTests
{
    private static readonly LocalEmbeddingGenerator Generator = new();

    private static async Task<float[]> EmbedAsync(string text) => (await Generator.GenerateVectorAsync(text)).ToArray();

    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    [Fact]
    public async Task Vectors_are_384_dimensions_of_unit_length_and_match_the_published_model()
    {
        var vector = await EmbedAsync("This is an example sentence");
        Assert.Equal(LocalEmbeddingGenerator.Dimensions, vector.Length);
        Assert.Equal(1.0, Norm(vector), 5);
        // sentence-transformers' all-MiniLM-L6-v2 gives this sentence a vector that starts 0.0677, 0.0634, 0.0488, 0.0793.
        Assert.Equal([0.0677f, 0.0634f, 0.0488f, 0.0793f], vector[..4].Select(x => MathF.Round(x, 3)), (a, b) => Math.Abs(a - b) <= 0.0011f);
    }

    [Fact]
    public async Task The_same_text_gets_the_same_vector_across_calls_and_batch_sizes()
    {
        string[] texts =
        [
            "What fees do you charge on a stocks and shares ISA?", "When can I access my pension?", "Can I hold bitcoin in my account?",
            "How much can I pay into an ISA this tax year, and does a transfer count towards the allowance?", "Hi", "Which costs apply?",
        ];
        var alone = new List<float[]>();
        foreach (var text in texts)
        {
            alone.Add(await EmbedAsync(text));
        }

        foreach (var batchSize in new[] { 1, 2, 32 })
        {
            using var batched = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { MaxBatchSize = batchSize });
            var together = await batched.GenerateAsync([.. texts, .. texts]);
            for (var i = 0; i < together.Count; i++)
            {
                var expected = alone[i % texts.Length];
                var actual = together[i].Vector.ToArray();
                Assert.True(expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5f), $"text {i % texts.Length} in batches of {batchSize}");
            }
        }
    }

    [Fact]
    public async Task A_paraphrase_scores_above_an_unrelated_question()
    {
        var question = await EmbedAsync("When can I take money out of my pension?");
        var paraphrase = await EmbedAsync("At what age am I allowed to access my pension pot?");
        var unrelated = await EmbedAsync("How do I reset my online banking password?");
        Assert.True(Vectors.Cosine(question, paraphrase) > Vectors.Cosine(question, unrelated) + 0.3,
            $"paraphrase {Vectors.Cosine(question, paraphrase):F3}, unrelated {Vectors.Cosine(question, unrelated):F3}");
    }

    [Fact]
    public async Task Text_past_the_window_is_cut_to_its_first_256_word_pieces()
    {
        var opening = string.Join(' ', Enumerable.Repeat("pension fees apply", 120));
        var a = await EmbedAsync(opening + " and nothing else matters");
        var b = await EmbedAsync(opening + " but what about bitcoin, crypto and mortgages in Spain?");
        Assert.Equal(a, b);
        Assert.NotEqual(a, await EmbedAsync("pension fees apply and nothing else matters"));
        Assert.Equal(1.0, Norm(a), 5);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Empty_text_is_refused_with_what_to_pass(string text)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Generator.GenerateAsync(["fine", text]));
        Assert.Contains("Text 1 to embed is empty", error.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 1536 }));
    }

    [Fact]
    public async Task Sixteen_concurrent_callers_get_the_vectors_one_caller_gets()
    {
        var texts = Enumerable.Range(0, 16).Select(i => $"Question number {i}: what does fund {i} cost per year?").ToArray();
        var expected = new float[texts.Length][];
        for (var i = 0; i < texts.Length; i++)
        {
            expected[i] = await EmbedAsync(texts[i]);
        }

        using var start = new Barrier(texts.Length);
        var results = await Task.WhenAll(texts.Select((text, i) => Task.Run(async () =>
        {
            start.SignalAndWait();
            var vectors = new List<float[]>();
            for (var round = 0; round < 5; round++)
            {
                vectors.Add((await Generator.GenerateVectorAsync(text)).ToArray());
            }

            return (i, vectors);
        })));
        foreach (var (i, vectors) in results)
        {
            Assert.All(vectors, v => Assert.True(v.Zip(expected[i]).All(p => Math.Abs(p.First - p.Second) <= 1e-5f), $"caller {i}"));
        }
    }

    [Fact]
    public async Task A_cancelled_call_throws_and_the_next_one_works()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Generator.GenerateAsync(["What are the fees?"], cancellationToken: cancelled.Token));
        Assert.Equal(LocalEmbeddingGenerator.Dimensions, (await EmbedAsync("What are the fees?")).Length);
    }

    [Fact]
    public void Metadata_names_the_model_and_its_dimensions_and_registration_makes_it_the_caches_model()
    {
        var metadata = Generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal(LocalEmbeddingGenerator.ModelName, metadata.DefaultModelId);
        Assert.Equal(384, metadata.DefaultModelDimensions);

        using var services = new ServiceCollection()
            .AddQueryCache(o => o.ConnectionString = "Host=127.0.0.1")
            .AddQueryCacheLocalEmbeddings(o => o.MaxBatchSize = 8)
            .BuildServiceProvider();
        Assert.IsType<LocalEmbeddingGenerator>(services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>());
        var options = services.GetRequiredService<IOptions<QueryCacheOptions>>().Value;
        Assert.Equal((LocalEmbeddingGenerator.ModelName, 384), (options.EmbeddingModel, options.Dimensions));

        using var mismatched = new ServiceCollection()
            .AddQueryCache(o => (o.ConnectionString, o.EmbeddingModel, o.Dimensions) = ("Host=127.0.0.1", LocalEmbeddingGenerator.ModelName, 1536))
            .AddQueryCacheLocalEmbeddings()
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => mismatched.GetRequiredService<IOptions<QueryCacheOptions>>().Value);
        Assert.Contains("set it to 384", error.Message);
    }
}
