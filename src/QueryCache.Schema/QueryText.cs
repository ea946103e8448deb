using System.Security.Cryptography;
using System.Text;

namespace QueryCache;

/// <summary>
/// Keys of text: a question's exact-match key (SHA-256 of its trimmed, case-folded, whitespace-collapsed text), and the
/// embedding cache's key, which keeps case (a model may embed "US" and "us" apart). The columns
/// <c>query_hash</c> and <c>text_hash</c> hold them; a bulk load that writes the tables directly computes them here.
/// </summary>
public static class QueryText
{
    /// <summary>The text trimmed, case-folded (invariant culture), whitespace runs collapsed to one space.</summary>
    /// <param name="text">A question.</param>
    /// <returns>The text exact matches compare.</returns>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Collapse(text, foldCase: true);
    }

    /// <summary>The exact-match key of a question: SHA-256 of <see cref="Normalize"/>'s UTF-8.</summary>
    /// <param name="text">A question.</param>
    /// <returns>32 bytes, the value of <c>query_hash</c>.</returns>
    public static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(text)));

    /// <summary>SHA-256 of the text in Unicode NFC, trimmed, whitespace runs collapsed to one space, case kept.</summary>
    /// <param name="text">A text given to the embedding model.</param>
    /// <returns>32 bytes, the embedding cache's key.</returns>
    public static byte[] EmbeddingHash(string text) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(Collapse(text.Normalize(NormalizationForm.FormC), foldCase: false)));

    private static string Collapse(string text, bool foldCase)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text.AsSpan().Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(foldCase ? char.ToLowerInvariant(c) : c);
        }

        return builder.ToString();
    }
}
