using System.Security.Cryptography;
using System.Text;

namespace QueryCache.Internal;

/// <summary>The exact-match key of a question: SHA-256 of its trimmed, case-folded, whitespace-collapsed text.</summary>
internal static class QueryText
{
    public static string Normalize(string text)
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

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    public static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(text)));
}
