using System.CommandLine;

namespace QueryCache.Cli;

/// <summary><c>--contrast-terms</c>: the guard's terms inline (<c>"a;b|c"</c>) or from a file (<c>@FILE</c>, one per line).</summary>
internal static class ContrastTermsOption
{
    public static Option<string?> Create(string defaultText) => new("--contrast-terms")
    {
        Description = $"The guard's contrast terms, separated by ';', or @FILE with one per line ('#' starts a comment); a|b is one term written two ways; {defaultText}",
    };

    /// <summary>The terms the option names, or null when it was not given.</summary>
    public static IReadOnlyList<string>? Read(ParseResult parse, Option<string?> option)
    {
        var value = parse.GetValue(option);
        if (value is null)
        {
            return null;
        }

        if (!value.StartsWith('@'))
        {
            return value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        var path = value[1..];
        if (!File.Exists(path))
        {
            throw new CliUsageException($"--contrast-terms: no file '{path}'; give @FILE with one term per line, or the terms separated by ';'.");
        }

        return [.. File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }
}
