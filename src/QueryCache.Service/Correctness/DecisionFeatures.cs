namespace QueryCache.Correctness;

/// <summary>
/// What the learned decision knows of a candidate: the cosine similarity, each signal of the lexical guard, and how
/// the two questions' words agree — content words shared, words on one side only, word order, word pairs, length.
/// Computed from the two texts alone, in microseconds; the margin to the next candidate is left out because labelled
/// pairs, the main source of labels, have no next candidate to learn its weight from.
/// </summary>
internal static class DecisionFeatures
{
    /// <summary>The features' names, in the order they are returned.</summary>
    public static readonly string[] Names =
    [
        "similarity", "similarity_above_0_9", "guard_numbers", "guard_negation", "guard_opposite_action", "guard_person",
        "guard_time", "guard_contrast_term", "content_overlap", "content_one_side", "content_replaced", "word_order", "word_pairs",
        "roles_swapped", "numbers_reordered", "length_ratio",
    ];

    public static int Count => Names.Length;

    /// <summary>The features of serving the answer cached for <paramref name="cached"/> to <paramref name="asked"/>.</summary>
    public static double[] Of(string asked, string cached, double similarity, IReadOnlyList<string> contrastTerms) =>
        Of(QuestionText.Parse(asked), QuestionText.Parse(cached), similarity, contrastTerms);

    public static double[] Of(QuestionText asked, QuestionText cached, double similarity, IReadOnlyList<string> contrastTerms) =>
        Of(asked, cached, similarity, LexicalGuard.Signals(asked, cached, contrastTerms));

    /// <summary>The features, with the guard's signals already known.</summary>
    public static double[] Of(QuestionText asked, QuestionText cached, double similarity, GuardSignals signals)
    {
        var a = Content(asked);
        var c = Content(cached);
        var shared = a.Intersect(c, StringComparer.Ordinal).Count();
        var union = a.Union(c, StringComparer.Ordinal).Count();
        return
        [
            similarity,
            Math.Max(0, similarity - 0.9) * 10,
            Flag(signals, GuardSignals.Numbers),
            Flag(signals, GuardSignals.Negation),
            Flag(signals, GuardSignals.OppositeAction),
            Flag(signals, GuardSignals.Person),
            Flag(signals, GuardSignals.Time),
            Flag(signals, GuardSignals.ContrastTerm),
            union == 0 ? 1 : (double)shared / union,
            Math.Log(1 + union - shared),
            Math.Min(a.Count - shared, c.Count - shared),
            OrderAgreement(a, c),
            Jaccard(Pairs(asked.Stems), Pairs(cached.Stems)),
            RolesSwapped(asked.Stems, cached.Stems) ? 1 : 0,
            asked.Numbers.Length > 1 && !asked.Numbers.SequenceEqual(cached.Numbers) && asked.Numbers.Order().SequenceEqual(cached.Numbers.Order()) ? 1 : 0,
            a.Count == 0 && c.Count == 0 ? 1 : (double)Math.Min(a.Count, c.Count) / Math.Max(a.Count, c.Count),
        ];
    }

    private static double Flag(GuardSignals signals, GuardSignals flag) => signals.HasFlag(flag) ? 1 : 0;

    /// <summary>The content stems in order, each once.</summary>
    private static List<string> Content(QuestionText text) =>
        text.Stems.Where(s => !Lexicon.FunctionWords.Contains(s)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Of the pairs of content words both questions share, the share that come in the same order (1 with fewer than two).</summary>
    private static double OrderAgreement(List<string> a, List<string> c)
    {
        var positions = c.Select((word, i) => (word, i)).ToDictionary(p => p.word, p => p.i, StringComparer.Ordinal);
        var order = a.Where(positions.ContainsKey).Select(w => positions[w]).ToList();
        if (order.Count < 2)
        {
            return 1;
        }

        var agreeing = 0;
        var pairs = 0;
        for (var i = 0; i < order.Count; i++)
        {
            for (var j = i + 1; j < order.Count; j++)
            {
                pairs++;
                agreeing += order[i] < order[j] ? 1 : 0;
            }
        }

        return (double)agreeing / pairs;
    }

    /// <summary>
    /// "convert X to Y" against "convert Y to X": a function word both questions use once has the same two content words
    /// on either side of it, the other way round.
    /// </summary>
    private static bool RolesSwapped(string[] asked, string[] cached)
    {
        foreach (var word in asked.Where(Lexicon.FunctionWords.Contains).Distinct(StringComparer.Ordinal))
        {
            if (Neighbours(asked, word) is ({ } left, { } right) && left != right && Neighbours(cached, word) == (right, left))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The nearest content words before and after the only occurrence of <paramref name="word"/>; nulls when it occurs other than once.</summary>
    private static (string? Left, string? Right) Neighbours(string[] stems, string word)
    {
        var at = Array.IndexOf(stems, word);
        if (at < 0 || Array.LastIndexOf(stems, word) != at)
        {
            return (null, null);
        }

        return (stems[..at].LastOrDefault(s => !Lexicon.FunctionWords.Contains(s)), stems[(at + 1)..].FirstOrDefault(s => !Lexicon.FunctionWords.Contains(s)));
    }

    private static HashSet<string> Pairs(string[] stems) =>
        Enumerable.Range(0, Math.Max(0, stems.Length - 1)).Select(i => stems[i] + " " + stems[i + 1]).ToHashSet(StringComparer.Ordinal);

    private static double Jaccard(HashSet<string> a, HashSet<string> b) =>
        a.Count + b.Count == 0 ? 1 : (double)a.Intersect(b).Count() / a.Union(b).Count();
}
