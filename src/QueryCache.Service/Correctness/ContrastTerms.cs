using System.Collections.Concurrent;

namespace QueryCache.Correctness;

/// <summary>
/// A tenant's contrast terms (products, accounts, markets) found in a question, longest first so that "Lifetime ISA" is
/// not also read as "ISA". A term written <c>Lifetime ISA|LISA</c> is one term with two spellings.
/// </summary>
internal static class ContrastTerms
{
    // Tenants configure few lists and rarely change them; their parsed form is kept (bounded).
    private static readonly ConcurrentDictionary<string, (string Term, string Stemmed)[]> Parsed = new(StringComparer.Ordinal);

    public static HashSet<string> Match(string joinedStems, IReadOnlyList<string> terms)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (terms.Count == 0)
        {
            return found;
        }

        var remaining = joinedStems;
        foreach (var (term, stemmed) in Prepare(terms))
        {
            var needle = " " + stemmed + " ";
            if (remaining.Contains(needle, StringComparison.Ordinal))
            {
                found.Add(term);
                remaining = remaining.Replace(needle, " | ", StringComparison.Ordinal);
            }
        }

        return found;
    }

    private static (string Term, string Stemmed)[] Prepare(IReadOnlyList<string> terms)
    {
        var key = string.Join('\u001f', terms);
        if (Parsed.TryGetValue(key, out var prepared))
        {
            return prepared;
        }

        prepared = terms
            .SelectMany(term => term.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(spelling => (Term: term.Split('|')[0].Trim(), Stemmed: QuestionText.StemPhrase(spelling))))
            .Where(t => t.Stemmed.Length > 0)
            .OrderByDescending(t => t.Stemmed.Count(c => c == ' '))
            .ThenByDescending(t => t.Stemmed.Length)
            .ToArray();
        if (Parsed.Count < 1_000)
        {
            Parsed[key] = prepared;
        }

        return prepared;
    }
}
