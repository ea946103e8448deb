using System.Text.Json;
using Dapper;
using Npgsql;
using QueryCache.Cli;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary><c>querycache evaluate</c> through its real entry point, and what the project's labelled set shows with the built-in embedder.</summary>
public sealed class EvaluationTests(DatabaseFixture database) : DatabaseTest(database)
{
    private static readonly string ProjectPairs = Path.Combine(AppContext.BaseDirectory, "eval", "askwealth-pairs.csv");

    /// <summary>The guard's categories in the project's set; paraphrases are the positives, the others are not covered.</summary>
    private static readonly string[] Covered = ["number", "negation", "opposite_action", "entity", "person_time"];

    private static async Task<(int ExitCode, string Output, string Error)> CliAsync(string? connection, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new Dictionary<string, string?> { ["QUERYCACHE_CONNECTION"] = connection };
        var code = await CliApp.RunAsync(args, output, error, new StringReader(""), name => environment.GetValueOrDefault(name));
        return (code, output.ToString(), error.ToString());
    }

    private static string TempCsv(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pairs-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Json_output_is_one_object_with_every_threshold_with_and_without_the_guard()
    {
        var run = await CliAsync(null, "evaluate", "--pairs", ProjectPairs, "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Equal(["model", "dimensions", "pairs", "positives", "negatives", "recommended_threshold", "rows", "operating_point", "baseline"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(LocalEmbeddingGenerator.ModelName, root.GetProperty("model").GetString());
        Assert.Equal(384, root.GetProperty("dimensions").GetInt32());
        Assert.True(root.GetProperty("pairs").GetInt32() >= 300);
        Assert.Equal(root.GetProperty("pairs").GetInt32(), root.GetProperty("positives").GetInt32() + root.GetProperty("negatives").GetInt32());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(60, rows.Count);
        Assert.Equal(["threshold", "guard", "hits", "true_hits", "false_hits", "precision", "recall", "false_hit_rate"], rows[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.7, rows[0].GetProperty("threshold").GetDouble());
        Assert.Equal(0.99, rows[^1].GetProperty("threshold").GetDouble());
        Assert.All(rows, r => Assert.Equal(r.GetProperty("hits").GetInt32(), r.GetProperty("true_hits").GetInt32() + r.GetProperty("false_hits").GetInt32()));
        Assert.Contains("evaluate:", run.Error);
    }

    [Theory]
    [InlineData("question_a,question_b,label,category\nWhat is an ISA?,What's an ISA?,1,paraphrase\nWhat is a SIPP?,,0,entity\n", "line 3", "question_b is empty")]
    [InlineData("What is an ISA?,What's an ISA?,yes,paraphrase\n", "line 1", "label is 'yes'")]
    [InlineData("What is an ISA?,What's an ISA?,,paraphrase\n", "line 1", "label is missing")]
    [InlineData("question_a,question_b,label,category\n\nWhat is an ISA?,What's an ISA?,1\n", "line 3", "expected 4 columns")]
    [InlineData("What is an ISA, really?,What's an ISA?,1,paraphrase\n", "line 1", "quote a question that contains a comma")]
    [InlineData("\"What is an ISA?,What's an ISA?,1,paraphrase\n", "line 1", "not closed")]
    public async Task A_malformed_file_exits_2_naming_the_line_before_anything_is_embedded(string content, string line, string message)
    {
        var file = TempCsv(content);
        try
        {
            var run = await CliAsync(null, "evaluate", "--pairs", file, "--json");
            Assert.Equal(CliApp.Usage, run.ExitCode);
            Assert.Contains(line, run.Error);
            Assert.Contains(message, run.Error);
            Assert.DoesNotContain("embedded", run.Error.Replace("Nothing was embedded", "", StringComparison.Ordinal));
            Assert.Equal("", run.Output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Apply_writes_the_recommended_threshold_to_the_tenant()
    {
        var file = TempCsv("""
            question_a,question_b,label,category
            "What are the fees on my pension, in full?","what are the fees on my pension, in full?",1,paraphrase
            How do I reset my password?,how do i reset my password,1,paraphrase
            How do I reset my password?,Where is your office in London?,0,different_question
            """);
        try
        {
            var run = await CliAsync(Database.ConnectionString, "evaluate", "--pairs", file, "--apply", "--tenant", "acme");
            Assert.True(run.ExitCode == 0, run.Error);
            Assert.Contains("recommended threshold: 0.70", run.Output);
            Assert.Contains("applied similarity threshold 0.70 to tenant acme", run.Output);
            await using var connection = new NpgsqlConnection(Database.ConnectionString);
            Assert.Equal(0.7, await connection.ExecuteScalarAsync<double>("SELECT similarity_threshold FROM askwealth.query_cache_config WHERE tenant_id = 'acme'"));
            Assert.Equal(0.85, await connection.ExecuteScalarAsync<double>("SELECT similarity_threshold FROM askwealth.query_cache_config WHERE tenant_id IS NULL"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task On_the_projects_labelled_set_the_guard_keeps_false_hits_in_its_categories_within_one_percent_at_the_default_threshold()
    {
        using var reader = File.OpenText(ProjectPairs);
        var pairs = CacheEvaluation.ReadPairs(reader);
        Assert.True(pairs.Count >= 300);
        var report = await CacheEvaluation.EvaluateAsync(pairs, new LocalEmbeddingGenerator(), LocalEmbeddingGenerator.ModelName,
            new EvaluationOptions { ContrastTerms = SampleContrastTerms.Wealth });

        var inScope = report.Scored.Where(s => s.Pair.SameAnswer || Covered.Contains(s.Pair.Category)).ToList();
        var hits = inScope.Count(s => s.IsHit(0.85, guard: true));
        var falseHits = inScope.Count(s => s.IsHit(0.85, guard: true) && !s.Pair.SameAnswer);
        Assert.True(hits > 0);
        Assert.True(falseHits <= 0.01 * hits, $"{falseHits} false hits among {hits} in the guard's categories at 0.85");

        // Without the guard the same threshold serves wrong answers in those categories.
        Assert.True(inScope.Count(s => s.IsHit(0.85, guard: false) && !s.Pair.SameAnswer) >= 10);

        // Every category of hard negative is in the set, and each has the guard refuse something.
        foreach (var category in Covered)
        {
            Assert.Contains(report.Scored, s => s.Pair.Category == category && s.GuardRefusal is not null);
        }
    }

    [Fact]
    public async Task The_report_page_renders_in_a_real_headless_browser()
    {
        var page = Path.Combine(Path.GetTempPath(), $"querycache-report-{Guid.NewGuid():N}.html");
        var run = await CliAsync(null, "evaluate", "--pairs", ProjectPairs, "--max-false-hit-rate", "0.02", "--report", page);
        Assert.True(run.ExitCode == 0, run.Error);
        var html = await File.ReadAllTextAsync(page);
        Assert.Contains("id=\"learned\"", html);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "<svg "));

        var chromium = Environment.GetEnvironmentVariable("QUERYCACHE_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"No Chromium at {chromium}: install Debian's chromium (eng/test.sh does) or set QUERYCACHE_CHROMIUM.");
        var screenshot = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "artifacts", "test-results", "evaluation-report.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        var dom = await RunChromiumAsync(chromium, "--dump-dom", page);
        Assert.Contains("Learned decision", dom);
        Assert.Contains("recall against false-hit rate", dom, StringComparison.OrdinalIgnoreCase);
        await RunChromiumAsync(chromium, $"--screenshot={screenshot}", page);
        Assert.True(new FileInfo(screenshot).Length > 20_000, "the screenshot is nearly empty");
        File.Delete(page);
    }

    private static async Task<string> RunChromiumAsync(string chromium, string action, string page)
    {
        var profile = Directory.CreateTempSubdirectory("querycache-chromium-").FullName;
        var start = new System.Diagnostics.ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1240,1100", $"--user-data-dir={profile}", action,
                     new Uri(page).AbsoluteUri,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Directory.Delete(profile, recursive: true);
        return await output;
    }
}
