using System.Text;

namespace QueryCache;

/// <summary>Reads <c>question_a,question_b,label,category</c> CSV strictly, naming the line of the first fault.</summary>
internal static class LabelledPairsCsv
{
    private static readonly string[] Header = ["question_a", "question_b", "label", "category"];

    public static IReadOnlyList<LabelledPair> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var pairs = new List<LabelledPair>();
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = Split(line, number);
            if (pairs.Count == 0 && fields.Select(f => f.Trim().ToUpperInvariant()).SequenceEqual(Header.Select(h => h.ToUpperInvariant())))
            {
                continue;
            }

            if (fields.Count != 4)
            {
                throw new LabelledPairsFormatException(number,
                    $"expected 4 columns (question_a,question_b,label,category) but found {fields.Count}; quote a question that contains a comma.");
            }

            var (a, b, label, category) = (fields[0].Trim(), fields[1].Trim(), fields[2].Trim(), fields[3].Trim());
            if (a.Length == 0 || b.Length == 0)
            {
                throw new LabelledPairsFormatException(number, $"question_{(a.Length == 0 ? "a" : "b")} is empty; both questions are needed.");
            }

            if (label is not ("0" or "1"))
            {
                throw new LabelledPairsFormatException(number,
                    label.Length == 0 ? "the label is missing; write 1 (the cached answer is right) or 0 (it is not)."
                        : $"the label is '{label}'; write 1 (the cached answer is right for the second question) or 0 (it is not).");
            }

            pairs.Add(new LabelledPair(a, b, label == "1", category.Length == 0 ? "(none)" : category, number));
        }

        return pairs;
    }

    /// <summary>RFC 4180 fields of one line: commas separate, double quotes enclose, a doubled quote is a quote.</summary>
    private static List<string> Split(string line, int number)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c != '"')
                {
                    field.Append(c);
                }
                else if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                {
                    quoted = false;
                }
            }
            else if (c == '"' && field.ToString().Trim().Length == 0)
            {
                field.Clear();
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw new LabelledPairsFormatException(number, "a quoted field is not closed; end it with a double quote.");
        }

        fields.Add(field.ToString());
        return fields;
    }
}
