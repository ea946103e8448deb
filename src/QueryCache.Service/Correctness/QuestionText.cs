using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace QueryCache.Correctness;

/// <summary>
/// A question taken apart for the lexical guard: its word stems (for phrase matching) and the numbers, amounts and
/// dates it names, normalized so that "£20,000", "20k" and "twenty thousand" are the same amount.
/// </summary>
internal sealed partial class QuestionText
{
    private QuestionText(string[] stems, HashSet<string> quantities, string[] numbers)
    {
        Stems = stems;
        Quantities = quantities;
        Numbers = numbers;
        Joined = " " + string.Join(' ', stems) + " ";
    }

    /// <summary>The words, case-folded, apostrophes normalized, possessive 's dropped, each cut to its stem.</summary>
    public string[] Stems { get; }

    /// <summary>The stems joined by single spaces with a space at each end, for whole-phrase search.</summary>
    public string Joined { get; }

    /// <summary>Numbers, amounts, percentages, tax years and named months or weekdays, normalized.</summary>
    public HashSet<string> Quantities { get; }

    /// <summary>The numerals, normalized, in the order the question names them.</summary>
    public string[] Numbers { get; }

    public static QuestionText Parse(string text)
    {
        var normalized = Normalize(text);
        var quantities = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match year in TaxYear().Matches(normalized))
        {
            quantities.Add(year.Groups[1].Value + "/" + year.Groups[2].Value[^2..]);
        }

        normalized = TaxYear().Replace(normalized, " ");
        var numbers = Number().Matches(normalized).Select(Canonical).ToArray();
        quantities.UnionWith(numbers);

        var words = Word().Matches(Number().Replace(normalized, " #n ")).Select(m => m.Value).ToArray();
        AddSpelledNumbers(words, quantities);
        AddCalendarNames(words, quantities);
        return new QuestionText(words.Where(w => w != "#n").Select(Stem).ToArray(), quantities, numbers);
    }

    /// <summary>The stem of each word of <paramref name="phrase"/>, joined by spaces.</summary>
    public static string StemPhrase(string phrase) =>
        string.Join(' ', Word().Matches(Normalize(phrase)).Select(m => Stem(m.Value)));

    /// <summary>
    /// A crude suffix stripper: charge, charges, charged and charging all become "charg"; ISAs "isa"; dropped and
    /// dropping "drop" (a doubled consonant left by -ed or -ing is undoubled, except l, s and z, as Porter does).
    /// </summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        foreach (var suffix in (ReadOnlySpan<string>)["ing", "ed", "es", "s"])
        {
            if (word.Length >= suffix.Length + 3 && word.EndsWith(suffix, StringComparison.Ordinal))
            {
                word = word[..^suffix.Length];
                if (suffix is "ing" or "ed" && word.Length > 2 && word[^1] == word[^2] && word[^1] is not ('l' or 's' or 'z') && !IsVowel(word[^1]))
                {
                    word = word[..^1];
                }

                break;
            }
        }

        return word.Length > 3 && word.EndsWith('e') ? word[..^1] : word;
    }

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u';

    private static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text.Normalize(NormalizationForm.FormKC))
        {
            builder.Append(c switch
            {
                '\u2018' or '\u2019' or '\u02BC' or '`' => '\'',
                '\u2010' or '\u2011' or '\u2012' or '\u2013' => '-',
                _ => char.ToLowerInvariant(c),
            });
        }

        // Possessives name their owner ("my partner's pension" is about the partner).
        return Possessive().Replace(builder.ToString(), "");
    }

    private static string Canonical(Match number)
    {
        var digits = number.Groups["int"].Value.Replace(",", "", StringComparison.Ordinal);
        var value = decimal.Parse(digits + (number.Groups["frac"].Success ? "." + number.Groups["frac"].Value : ""), CultureInfo.InvariantCulture);
        value *= number.Groups["scale"].Value switch
        {
            "k" or "thousand" => 1_000m,
            "m" or "million" => 1_000_000m,
            "bn" or "billion" => 1_000_000_000m,
            _ => 1m,
        };
        var canonical = value.ToString("0.############", CultureInfo.InvariantCulture);
        return number.Groups["percent"].Success ? canonical + "%" : canonical;
    }

    /// <summary>"twenty thousand", "two hundred and fifty", "fifteen": spelled-out amounts, and ordinals first to tenth.</summary>
    private static void AddSpelledNumbers(string[] words, HashSet<string> quantities)
    {
        long total = 0, current = 0;
        var inNumber = false;
        for (var i = 0; i <= words.Length; i++)
        {
            var word = i < words.Length ? words[i] : "";
            var parts = word.Split('-');
            if (parts.All(p => Lexicon.NumberWords.ContainsKey(p) || p is "hundred" or "thousand" or "million")
                && (word != "one" || (i + 1 < words.Length && words[i + 1] is "hundred" or "thousand" or "million")))
            {
                foreach (var part in parts)
                {
                    switch (part)
                    {
                        case "hundred": current = Math.Max(current, 1) * 100; break;
                        case "thousand": total += Math.Max(current, 1) * 1_000; current = 0; break;
                        case "million": total += Math.Max(current, 1) * 1_000_000; current = 0; break;
                        default: current += Lexicon.NumberWords[part]; break;
                    }
                }

                inNumber = true;
                continue;
            }

            if (inNumber && word == "and" && i + 1 < words.Length && Lexicon.NumberWords.ContainsKey(words[i + 1]))
            {
                continue;
            }

            if (inNumber)
            {
                quantities.Add((total + current).ToString(CultureInfo.InvariantCulture));
                total = current = 0;
                inNumber = false;
            }

            if (Lexicon.Ordinals.TryGetValue(word, out var ordinal))
            {
                quantities.Add(ordinal.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Months and weekdays; "may" only next to a number, where it is the month and not the verb.</summary>
    private static void AddCalendarNames(string[] words, HashSet<string> quantities)
    {
        for (var i = 0; i < words.Length; i++)
        {
            if (Lexicon.Months.TryGetValue(words[i], out var month)
                && (words[i] != "may" || (i > 0 && words[i - 1] == "#n") || (i + 1 < words.Length && words[i + 1] == "#n")))
            {
                quantities.Add(month);
            }
            else if (Lexicon.Weekdays.Contains(words[i]))
            {
                quantities.Add(words[i]);
            }
        }
    }

    [GeneratedRegex(@"'s\b")]
    private static partial Regex Possessive();

    [GeneratedRegex(@"(?<![\w.])(\d{4})\s?[/-]\s?(\d{2}|\d{4})(?![\w/])")]
    private static partial Regex TaxYear();

    // 20, 20,000, £20,000.50, 20k, 5 thousand, 25%, 25 percent, 1st; not the 2 of "2fa" nor the 60 of "p60".
    [GeneratedRegex(@"(?<![\w.])[£$€]?(?<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?<frac>\d+))?(?:\s?(?<scale>k|m|bn|thousand|million|billion)\b)?(?<percent>\s?%|\s?percent\b)?(?:st|nd|rd|th)?(?![\w%])")]
    private static partial Regex Number();

    [GeneratedRegex(@"#n|[a-z]+(?:-[a-z]+)*(?:'[a-z]+)?|[a-z0-9]+")]
    private static partial Regex Word();
}
