namespace QueryCache.Correctness;

/// <summary>
/// The word lists behind the lexical guard and the default admission policy: general English and personal-finance
/// usage, not any tenant's products (those are the tenant's contrast terms).
/// </summary>
internal static class Lexicon
{
    public static readonly Dictionary<string, int> NumberWords = new(StringComparer.Ordinal)
    {
        ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7, ["eight"] = 8,
        ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["thirteen"] = 13, ["fourteen"] = 14, ["fifteen"] = 15,
        ["sixteen"] = 16, ["seventeen"] = 17, ["eighteen"] = 18, ["nineteen"] = 19, ["twenty"] = 20, ["thirty"] = 30,
        ["forty"] = 40, ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90,
    };

    public static readonly Dictionary<string, int> Ordinals = new(StringComparer.Ordinal)
    {
        ["first"] = 1, ["second"] = 2, ["third"] = 3, ["fourth"] = 4, ["fifth"] = 5, ["sixth"] = 6, ["seventh"] = 7,
        ["eighth"] = 8, ["ninth"] = 9, ["tenth"] = 10,
    };

    public static readonly Dictionary<string, string> Months = new(StringComparer.Ordinal)
    {
        ["january"] = "jan", ["jan"] = "jan", ["february"] = "feb", ["feb"] = "feb", ["march"] = "mar", ["april"] = "apr",
        ["apr"] = "apr", ["may"] = "may", ["june"] = "jun", ["jun"] = "jun", ["july"] = "jul", ["jul"] = "jul",
        ["august"] = "aug", ["aug"] = "aug", ["september"] = "sep", ["sept"] = "sep", ["october"] = "oct", ["oct"] = "oct",
        ["november"] = "nov", ["nov"] = "nov", ["december"] = "dec",
    };

    public static readonly HashSet<string> Weekdays = new(StringComparer.Ordinal)
    {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    };

    /// <summary>English function words: what two questions share without saying they ask the same thing.</summary>
    public static readonly HashSet<string> FunctionWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "i", "me", "my", "you", "your", "we", "our", "us", "it", "its", "is", "are", "am", "was", "were",
        "be", "been", "do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "must",
        "have", "has", "had", "to", "of", "for", "on", "in", "at", "by", "with", "from", "into", "about", "as", "and", "or",
        "if", "so", "what", "which", "who", "how", "when", "where", "why", "this", "that", "these", "those", "there", "any",
        "some", "please", "get", "there's", "what's", "how's", "i'm", "it's",
    };

    /// <summary>Words that negate a question; a word ending in n't does too.</summary>
    public static readonly HashSet<string> Negations = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "without", "cannot", "unable", "cant", "dont", "doesnt",
        "isnt", "arent", "wasnt", "werent", "didnt", "havent", "hasnt", "shouldnt", "wouldnt", "couldnt", "wont",
    };

    /// <summary>Phrases with a negation word that are not a negation of the question: they are rewritten first.</summary>
    public static readonly (string Phrase, string Replacement)[] Idioms =
    [
        ("free of charge", "free"), ("no charge", "free"), ("no charges", "free"), ("no fee", "free"), ("no fees", "free"),
        ("no cost", "free"), ("without charge", "free"), ("without paying tax", "tax-free"), ("without tax", "tax-free"),
        ("no tax", "tax-free"), ("free of tax", "tax-free"), ("tax free", "tax-free"), ("no longer", "anymore"),
        ("no later than", "by"), ("not only", "also"),
    ];

    /// <summary>
    /// Pairs of opposite actions or states, each side a set of words or phrases. Two questions that take different sides
    /// of a pair ask different things however close their wording.
    /// </summary>
    public static readonly (string Name, string[] One, string[] Other)[] Opposites =
    [
        ("open/close", ["open", "set up", "create"], ["close", "closure", "shut", "terminate", "cancel", "cancelled"]),
        ("in/out", ["transfer in", "move in", "moving in", "bring in", "into", "in to", "pay in", "put in"],
            ["transfer out", "move out", "out of", "out to", "take out", "cash out"]),
        ("deposit/withdraw", ["deposit", "pay in", "put in", "add money", "top up", "contribute", "contribution", "fund my"],
            ["withdraw", "withdrawal", "take out", "take money out", "cash out", "cash in", "encash"]),
        ("increase/decrease", ["increase", "raise", "boost", "grow", "rise", "go up", "going up", "goes up", "went up"],
            ["decrease", "reduce", "lower", "cut", "drop", "fall", "go down", "going down", "goes down", "went down", "shrink"]),
        ("buy/sell", ["buy", "bought", "purchase"], ["sell", "sold", "sale", "dispose", "liquidate"]),
        ("add/remove", ["add"], ["remove", "delete", "take off"]),
        ("enable/disable", ["enable", "turn on", "switch on", "activate"], ["disable", "turn off", "switch off", "deactivate"]),
        ("start/stop", ["start", "begin", "resume", "restart"], ["stop", "pause", "halt", "suspend"]),
        ("join/leave", ["join", "opt in", "sign up", "subscribe", "enrol", "enroll"], ["leave", "opt out", "unsubscribe"]),
        ("upgrade/downgrade", ["upgrade"], ["downgrade"]),
        ("lock/unlock", ["lock", "freeze"], ["unlock", "unfreeze"]),
        ("gain/loss", ["gain", "profit"], ["loss", "lose"]),
        ("more/less", ["more", "above", "over", "greater", "higher", "exceed", "maximum", "max"],
            ["less", "below", "under", "fewer", "lower", "minimum", "min"]),
        ("before/after", ["before"], ["after"]),
        // "taxed" is left out: its stem is "tax", which nearly every tax question names.
        ("tax-free/taxable", ["tax-free", "exempt", "untaxed"], ["taxable", "chargeable", "liable", "pay tax", "paying tax"]),
        ("accept/reject", ["accept", "approve"], ["reject", "decline", "refuse", "deny"]),
        ("include/exclude", ["include", "included"], ["exclude", "excluded", "leave out"]),
        ("joint/sole", ["joint"], ["sole", "single", "individual"]),
        ("fixed/variable", ["fixed"], ["variable", "tracker"]),
        ("gross/net", ["gross"], ["net"]),
        ("full/partial", ["full", "entire", "whole"], ["partial", "part"]),
        ("early/late", ["early", "earlier"], ["late", "later"]),
    ];

    /// <summary>Who a question is about. A question naming none of them is about no one in particular.</summary>
    public static readonly (string Name, string[] Words)[] People =
    [
        ("self", ["my", "i", "me", "mine", "myself", "i'm", "i've", "i'd", "im"]),
        ("partner", ["partner", "spouse", "wife", "husband", "civil partner"]),
        ("child", ["child", "children", "kid", "kids"]),
        ("son", ["son", "sons"]),
        ("daughter", ["daughter", "daughters"]),
        ("grandchild", ["grandchild", "grandchildren", "grandson", "granddaughter"]),
        ("parent", ["parent", "parents", "mother", "father", "mum", "mom", "dad"]),
        ("grandparent", ["grandparent", "grandparents", "grandmother", "grandfather", "grandma", "grandpa", "nan"]),
        ("sibling", ["brother", "sister", "sibling"]),
        ("employer", ["employer", "my company", "my business", "my firm"]),
    ];

    /// <summary>Relative time: which period ("this tax year", "last month", "today") a question asks about.</summary>
    public static readonly (string Phrase, string Period)[] Periods =
    [
        ("day", "day"), ("week", "week"), ("month", "month"), ("quarter", "quarter"), ("year", "year"), ("tax year", "year"),
        ("financial year", "year"),
    ];

    public static readonly (string Name, string[] Words)[] RelativeMarkers =
    [
        ("current", ["this", "current", "present"]),
        ("next", ["next", "upcoming", "coming", "following"]),
        ("previous", ["last", "previous", "prior", "past"]),
        ("per", ["every", "each", "per", "a"]),
    ];

    public static readonly (string Word, string Time)[] Days =
    [
        ("today", "current day"), ("tonight", "current day"), ("tomorrow", "next day"), ("yesterday", "previous day"),
        ("daily", "per day"), ("weekly", "per week"), ("monthly", "per month"), ("quarterly", "per quarter"),
        ("annual", "per year"), ("annually", "per year"), ("yearly", "per year"),
    ];

    /// <summary>What makes a question time-relative, so its answer goes stale: the default admission policy refuses these.</summary>
    public static readonly string[] TimeSensitive =
    [
        "today", "tonight", "now", "right now", "currently", "current", "latest", "at the moment", "this morning",
        "this afternoon", "this evening", "this week", "this month", "yesterday", "tomorrow", "live price", "real time",
        "real-time", "so far", "up to date", "up-to-date", "recent", "recently", "just now",
    ];
}
