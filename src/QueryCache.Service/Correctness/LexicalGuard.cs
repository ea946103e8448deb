namespace QueryCache.Correctness;

/// <summary>
/// Refuses a candidate hit whose question differs from the asked one where embeddings are known to be blind: in the
/// numbers, amounts or dates it names, in negation, in taking the other side of an opposite action, in whom or which
/// period it is about, or in the tenant's contrast terms (its products, say). Pure and allocation-light; no database.
/// </summary>
internal static class LexicalGuard
{
    private static readonly (string Name, string[] One, string[] Other)[] Opposites =
        Lexicon.Opposites.Select(o => (o.Name, Stemmed(o.One), Stemmed(o.Other))).ToArray();

    private static readonly (string Name, string[] Words)[] People = Lexicon.People.Select(p => (p.Name, Stemmed(p.Words))).ToArray();

    private static readonly (string Phrase, string Replacement)[] Idioms =
        Lexicon.Idioms.Select(i => (QuestionText.StemPhrase(i.Phrase), QuestionText.StemPhrase(i.Replacement))).ToArray();

    private static readonly (string Phrase, string Period)[] Periods = Lexicon.Periods.Select(p => (QuestionText.StemPhrase(p.Phrase), p.Period)).ToArray();

    private static readonly (string Name, string[] Words)[] Markers = Lexicon.RelativeMarkers.Select(m => (m.Name, Stemmed(m.Words))).ToArray();

    private static readonly HashSet<string> NegationStems = Lexicon.Negations.Select(QuestionText.Stem).ToHashSet(StringComparer.Ordinal);

    /// <summary>Why <paramref name="candidate"/> must not answer <paramref name="question"/>, or null when the guard sees no reason.</summary>
    /// <param name="question">The question asked now.</param>
    /// <param name="candidate">The cached question whose answer would be served.</param>
    /// <param name="contrastTerms">The tenant's contrast terms; <c>a|b</c> names one term written two ways.</param>
    public static CacheMissReason? Check(string question, string candidate, IReadOnlyList<string> contrastTerms) =>
        FirstReason(Signals(QuestionText.Parse(question), QuestionText.Parse(candidate), contrastTerms));

    /// <summary>The reason the guard gives for <paramref name="signals"/>: the first that fired, in the guard's order.</summary>
    public static CacheMissReason? FirstReason(GuardSignals signals) => signals switch
    {
        _ when signals.HasFlag(GuardSignals.Numbers) => CacheMissReason.GuardNumbers,
        _ when signals.HasFlag(GuardSignals.Negation) => CacheMissReason.GuardNegation,
        _ when signals.HasFlag(GuardSignals.OppositeAction) => CacheMissReason.GuardOppositeAction,
        _ when signals.HasFlag(GuardSignals.Person) => CacheMissReason.GuardPerson,
        _ when signals.HasFlag(GuardSignals.Time) => CacheMissReason.GuardTime,
        _ when signals.HasFlag(GuardSignals.ContrastTerm) => CacheMissReason.GuardContrastTerm,
        _ => null,
    };

    /// <summary>Every difference the guard sees between the two parsed questions, not only the first.</summary>
    public static GuardSignals Signals(QuestionText asked, QuestionText cached, IReadOnlyList<string> contrastTerms)
    {
        var a = Features.Of(asked, contrastTerms);
        var c = Features.Of(cached, contrastTerms);
        var signals = GuardSignals.None;
        signals |= a.Quantities.SetEquals(c.Quantities) ? 0 : GuardSignals.Numbers;
        signals |= a.Negated == c.Negated ? 0 : GuardSignals.Negation;
        signals |= Differ(a.Sides, c.Sides) ? GuardSignals.OppositeAction : 0;
        signals |= BothNamedAndDiffer(a.People, c.People) ? GuardSignals.Person : 0;
        signals |= BothNamedAndDiffer(a.Times, c.Times) ? GuardSignals.Time : 0;
        signals |= BothNamedAndDiffer(a.Terms, c.Terms) ? GuardSignals.ContrastTerm : 0;
        return signals;
    }

    /// <summary>Opposite sides: for some pair, both questions take a side and not the same ones.</summary>
    private static bool Differ(Dictionary<string, int> asked, Dictionary<string, int> cached) =>
        asked.Any(side => cached.TryGetValue(side.Key, out var other) && other != side.Value);

    private static bool BothNamedAndDiffer(HashSet<string> asked, HashSet<string> cached) =>
        asked.Count > 0 && cached.Count > 0 && !asked.SetEquals(cached);

    private static string[] Stemmed(string[] phrases) => phrases.Select(QuestionText.StemPhrase).ToArray();

    /// <summary>What the guard compares of one question.</summary>
    private sealed record Features(HashSet<string> Quantities, bool Negated, Dictionary<string, int> Sides, HashSet<string> People,
        HashSet<string> Times, HashSet<string> Terms)
    {
        public static Features Of(QuestionText text, IReadOnlyList<string> contrastTerms)
        {
            var joined = Idioms.Aggregate(text.Joined, (s, idiom) => s.Replace(" " + idiom.Phrase + " ", " " + idiom.Replacement + " ", StringComparison.Ordinal));
            bool Has(string phrase) => joined.Contains(" " + phrase + " ", StringComparison.Ordinal);

            // Each pair's sides as a bit set: 1 = the first side, 2 = the other, 3 = both.
            var sides = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (name, one, other) in Opposites)
            {
                var side = (one.Any(Has) ? 1 : 0) | (other.Any(Has) ? 2 : 0);
                if (side != 0)
                {
                    sides[name] = side;
                }
            }

            var times = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (marker, words) in Markers)
            {
                foreach (var (phrase, period) in Periods.Where(p => words.Any(w => Has(w + " " + p.Phrase))))
                {
                    times.Add(marker + " " + period);
                }
            }

            foreach (var (word, time) in Lexicon.Days.Where(d => Has(QuestionText.Stem(d.Word))))
            {
                times.Add(time);
            }

            var stems = joined.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new Features(
                text.Quantities,
                stems.Any(s => NegationStems.Contains(s) || s.EndsWith("n't", StringComparison.Ordinal)),
                sides,
                LexicalGuard.People.Where(p => p.Words.Any(Has)).Select(p => p.Name).ToHashSet(StringComparer.Ordinal),
                times,
                ContrastTerms.Match(joined, contrastTerms));
        }
    }
}

/// <summary>The differences the lexical guard looks for, each a flag.</summary>
[Flags]
internal enum GuardSignals
{
    None = 0,
    Numbers = 1,
    Negation = 2,
    OppositeAction = 4,
    Person = 8,
    Time = 16,
    ContrastTerm = 32,
}
