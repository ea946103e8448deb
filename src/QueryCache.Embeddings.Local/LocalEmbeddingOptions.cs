using System.ComponentModel.DataAnnotations;

namespace QueryCache;

/// <summary>How <see cref="LocalEmbeddingGenerator"/> runs the model.</summary>
public sealed class LocalEmbeddingOptions
{
    /// <summary>The most threads one forward pass uses; 0 (the default) lets ONNX Runtime take one per physical core.</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// The most texts in one forward pass (default 32). Texts are grouped by length first, so a batch pads little; a
    /// pass holds at most this many × 256 tokens × 384 floats of activations (12.6 MB at 32).
    /// </summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 32;
}
