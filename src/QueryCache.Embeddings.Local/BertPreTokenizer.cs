using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace QueryCache.Embeddings.Local;

/// <summary>
/// BERT's basic tokenization as the model was trained with it (Hugging Face's <c>BertPreTokenizer</c>): words split at
/// white space and control characters, each punctuation character a word of its own (ASCII punctuation and Unicode
/// categories P*), everything else kept with its word. Microsoft.ML.Tokenizers' default drops symbols such as £ and €
/// instead, so "£4,000" and "$4,000" would embed alike.
/// </summary>
internal sealed class BertPreTokenizer : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    private static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int Offset, int Length)>();
        var start = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var separator = char.IsWhiteSpace(c) || char.IsControl(c);
            if (separator || IsPunctuation(c))
            {
                if (start >= 0)
                {
                    words.Add((start, i - start));
                    start = -1;
                }

                if (!separator)
                {
                    words.Add((i, 1));
                }
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        if (start >= 0)
        {
            words.Add((start, text.Length - start));
        }

        return words;
    }

    private static bool IsPunctuation(char c) =>
        c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~')
        || char.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
}
