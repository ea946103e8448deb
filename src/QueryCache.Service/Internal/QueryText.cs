using System.Security.Cryptography;
using System.Text;

namespace QueryCache.Internal;

/// <summary>
/// Keys of text: a question's exact-match key (SHA-256 of its trimmed, case-folded, whitespace-collapsed text), and the
/// embedding cache's key, which keeps case (a model may embed "US" and "us" apart).
/// </summary>
internal static class QueryText
{
    public static string Normalize(string text) => Collapse(text, foldCase: true);

    public static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(text)));

    /// <summary>SHA-256 of the text in Unicode NFC, trimmed, whitespace runs collapsed to one space, case kept.</summary>
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
