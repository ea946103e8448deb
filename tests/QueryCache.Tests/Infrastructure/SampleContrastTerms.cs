namespace QueryCache.Tests.Infrastructure;

/// <summary>The sample's contrast terms (samples/wealth-contrast-terms.txt), as a team of that domain configures them.</summary>
public static class SampleContrastTerms
{
    public static IReadOnlyList<string> Wealth { get; } =
    [
        .. File.ReadLines(Path.Combine(AppContext.BaseDirectory, "samples", "wealth-contrast-terms.txt"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')),
    ];
}
