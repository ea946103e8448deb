using System.Globalization;
using Microsoft.Extensions.AI;
using System.Text.Json;
using Dapper;
using Npgsql;
using QueryCache.Cli;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The querycache command through its real entry point (<see cref="CliApp.RunAsync"/>, which Program calls) against the real database.</summary>
public sealed class CliTests(DatabaseFixture database) : DatabaseTest(database)
{
    private sealed record Run(int ExitCode, string Output, string Error);

    private static Task<Run> RunAsync(string? connectionString, string input, params string[] args)
    {
        var environment = new Dictionary<string, string?>();
        if (connectionString is not null)
        {
            environment["QUERYCACHE_CONNECTION"] = connectionString;
        }

        return RunWithAsync(environment, input, args);
    }

    private static async Task<Run> RunWithAsync(Dictionary<string, string?> environment, string input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, output, error, new StringReader(input), name => environment.GetValueOrDefault(name));
        return new Run(exitCode, output.ToString(), error.ToString());
    }

    private Task<Run> CliAsync(params string[] args) => RunAsync(Database.ConnectionString, "", args);

    private async Task<string> FingerprintAsync()
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        return await connection.ExecuteScalarAsync<string>("""
            SELECT (SELECT count(*) || ':' || (SELECT coalesce(sum(hit_count), 0) FROM askwealth.query_cache_hits) FROM askwealth.query_cache_embeddings) || '|' ||
                   (SELECT string_agg(coalesce(tenant_id, '*') || '=' || similarity_threshold::text || ',' || cache_enabled::text || ',' || max_cache_entries::text, ';' ORDER BY id) FROM askwealth.query_cache_config)
            """) ?? "";
    }

    private async Task SeedAsync()
    {
        using var embedder = new LocalEmbeddingGenerator();
        async Task<SeedEntry> Entry(string tenant, string? user, string question, string answer) =>
            new(tenant, user, (await embedder.GenerateVectorAsync(question)).ToArray(), question, answer, LocalEmbeddingGenerator.ModelName);
        await TestData.InsertEntriesAsync(Database.ConnectionString,
        [
            await Entry("acme", null, "What fees do you charge on a stocks and shares ISA?", "0.25% a year"),
            await Entry("acme", "alice", "What is my pension worth?", "£12,345"),
            await Entry("globex", null, "How do I reset my password?", "Use Forgot password"),
        ]);
    }

    [Fact]
    public async Task Every_command_has_help()
    {
        foreach (var command in new[] { "migrate", "backfill", "cleanup", "stats", "config", "lookup", "invalidate", "quickstart", "message-triggers", "decision", "security" })
        {
            var run = await RunAsync(null, "", command, "--help");
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("Usage:", run.Output);
        }
    }

    [Fact]
    public async Task Lookup_prints_hit_or_miss_with_the_similarity_and_exits_0_or_1()
    {
        await SeedAsync();
        var hit = await CliAsync("lookup", "what fees are currently charged on stocks and shares ISAs", "--tenant", "acme");
        Assert.True(hit.ExitCode == CliApp.Ok, hit.Error + hit.Output);
        Assert.Matches(@"HIT  similarity 0\.\d{3} \(threshold 0\.85\)", hit.Output);
        Assert.Contains("matched: What fees do you charge on a stocks and shares ISA?", hit.Output);

        var miss = await CliAsync("lookup", "Do you offer mortgages?", "--tenant", "acme");
        Assert.Equal(CliApp.Miss, miss.ExitCode);
        Assert.Contains("MISS nearest similarity", miss.Output);

        Assert.Equal(CliApp.Miss, (await CliAsync("lookup", "How do I reset my password?", "--tenant", "acme")).ExitCode);
        Assert.Equal(CliApp.Miss, (await CliAsync("lookup", "What is my pension worth?", "--tenant", "acme")).ExitCode);
        Assert.Equal(CliApp.Ok, (await CliAsync("lookup", "What is my pension worth?", "--tenant", "acme", "--user", "alice")).ExitCode);
        Assert.Equal(CliApp.Ok, (await CliAsync("lookup", "Do you offer mortgages?", "--tenant", "acme", "--threshold", "0")).ExitCode);
    }

    [Theory]
    [InlineData("lookup|question|--tenant|acme|--threshold|1.5", "from 0 to 1")]
    [InlineData("lookup|question|--tenant|", "tenant id is empty")]
    [InlineData("lookup|question", "--tenant")]
    [InlineData("config|set|--threshold|1.5", "from 0 to 1")]
    [InlineData("config|set|--max-entries|-1", "at least 1 entry")]
    [InlineData("config|set|--tenant|acme", "Nothing to change")]
    [InlineData("config|reset", "needs --tenant")]
    [InlineData("stats|--tenant|   ", "tenant id is empty")]
    [InlineData("backfill|--batch-size|0", "--batch-size")]
    [InlineData("backfill|--since|yesterday", "yesterday")]
    [InlineData("invalidate", "exactly one of")]
    [InlineData("invalidate|--user|alice", "exactly one of")]
    [InlineData("invalidate|--all", "Not confirmed")]
    [InlineData("invalidate|--message|not-a-guid|--yes", "not-a-guid")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task Bad_input_exits_2_with_the_fix_and_changes_nothing(string args, string message)
    {
        await SeedAsync();
        var before = await FingerprintAsync();
        var run = await RunAsync(Database.ConnectionString, "no\n", args.Split('|'));
        Assert.Equal(CliApp.Usage, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Equal(before, await FingerprintAsync());
    }

    [Fact]
    public async Task A_missing_or_unreachable_database_is_reported_with_how_to_fix_it()
    {
        var missing = await RunAsync(null, "", "stats");
        Assert.Equal(CliApp.Usage, missing.ExitCode);
        Assert.Contains("QUERYCACHE_CONNECTION", missing.Error);
        Assert.Contains("eng/db.sh start", missing.Error);

        var malformed = await RunAsync("Host=127.0.0.1;Bogus Key=1", "", "stats");
        Assert.Equal(CliApp.Usage, malformed.ExitCode);
        Assert.Contains("not valid", malformed.Error);

        var unreachable = await RunAsync("Host=127.0.0.1;Port=1;Database=x;Username=x;Password=x;Timeout=2", "", "stats");
        Assert.Equal(CliApp.DatabaseError, unreachable.ExitCode);
        Assert.Contains("cannot reach the database", unreachable.Error);

        var notMigrated = await RunAsync(await Database.CreateDatabaseAsync("cli_bare"), "", "stats");
        Assert.Equal(CliApp.DatabaseError, notMigrated.ExitCode);
        Assert.Contains("querycache migrate", notMigrated.Error);
    }

    [Fact]
    public async Task Without_an_endpoint_the_built_in_model_sets_the_size_and_a_database_made_for_another_is_refused()
    {
        // The fixture's database was migrated for 384 dimensions and no QUERYCACHE_DIMENSIONS is set: the model's size fits.
        await SeedAsync();
        var fits = await CliAsync("lookup", "What do you charge for a stocks and shares ISA?", "--tenant", "acme");
        Assert.True(fits.ExitCode == CliApp.Ok, fits.Error + fits.Output);

        var wrongSize = await RunWithAsync(new() { ["QUERYCACHE_CONNECTION"] = Database.ConnectionString, ["QUERYCACHE_DIMENSIONS"] = "1536" }, "", "stats");
        Assert.Equal(CliApp.Usage, wrongSize.ExitCode);
        Assert.Contains("produces 384 dimensions and QUERYCACHE_DIMENSIONS is 1536", wrongSize.Error);

        var other = await Database.CreateDatabaseAsync("cli_1536");
        await QueryCache.Migrations.QueryCacheMigrator.MigrateAsync(other, 1536);
        foreach (var command in new[] { "stats", "lookup|What are the fees?|--tenant|acme", "migrate" })
        {
            var refused = await RunAsync(other, "", command.Split('|'));
            Assert.Equal(CliApp.Usage, refused.ExitCode);
            Assert.Contains("was migrated for 1536-dimension embeddings and the model in use, sentence-transformers/all-MiniLM-L6-v2, makes 384", refused.Error);
            Assert.Contains("querycache migrate --target 0", refused.Error);
        }
    }

    [Fact]
    public async Task Connection_string_comes_from_the_option_then_the_environment_then_the_config_file()
    {
        await SeedAsync();
        var file = Path.Combine(Path.GetTempPath(), $"querycache-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { ConnectionString = Database.ConnectionString, Dimensions = DatabaseFixture.Dimensions }));
        try
        {
            var fromFile = await RunWithAsync([], "", "stats", "--config", file);
            Assert.Equal(0, fromFile.ExitCode);
            Assert.Contains("entries        3", fromFile.Output);

            var fromOption = await RunAsync(null, "", "stats", "--connection", Database.ConnectionString);
            Assert.Equal(0, fromOption.ExitCode);

            var missingFile = await RunWithAsync([], "", "stats", "--config", file + ".missing");
            Assert.Equal(CliApp.Usage, missingFile.ExitCode);
            Assert.Contains("does not exist", missingFile.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Stats_config_invalidate_and_cleanup_work_end_to_end()
    {
        await SeedAsync();
        var stats = await CliAsync("stats", "--json");
        Assert.True(stats.ExitCode == 0, stats.Error);
        using (var json = JsonDocument.Parse(stats.Output))
        {
            Assert.Equal(3, json.RootElement.GetProperty("TotalEntries").GetInt64());
            Assert.Equal(2, json.RootElement.GetProperty("TenantCount").GetInt64());
        }

        Assert.Contains("entries        2", (await CliAsync("stats", "--tenant", "acme")).Output);

        Assert.Equal(0, (await CliAsync("config", "set", "--tenant", "acme", "--threshold", "0.9", "--max-entries", "1")).ExitCode);
        var config = await CliAsync("config", "get", "--tenant", "acme");
        Assert.Contains("similarity_threshold 0.9", config.Output);
        Assert.Contains("max_cache_entries 1", config.Output);
        Assert.Contains("similarity_threshold 0.85", (await CliAsync("config", "get")).Output);
        // "@FILE" is the option's value (one term per line), not a response file of arguments.
        var terms = Path.Combine(AppContext.BaseDirectory, "samples", "wealth-contrast-terms.txt");
        Assert.Equal(0, (await CliAsync("config", "set", "--tenant", "acme", "--contrast-terms", "@" + terms)).ExitCode);
        Assert.Contains("stocks and shares ISA|S&S ISA; cash ISA", (await CliAsync("config", "get", "--tenant", "acme")).Output);
        Assert.Equal(0, (await CliAsync("config", "set", "--tenant", "acme", "--share-after-askers", "2")).ExitCode);
        Assert.Contains("share_after_askers 2", (await CliAsync("config", "get", "--tenant", "acme")).Output);
        Assert.Contains("0 waiting for askers", (await CliAsync("stats", "--tenant", "acme")).Output);

        // Row-level security on and off through the CLI: the policies come and go, the rows stay.
        Assert.Contains("enabled", (await CliAsync("security", "rls", "enable")).Output);
        Assert.True(await TestData.ScalarAsync(Database.ConnectionString,
            "SELECT count(*) FROM pg_class WHERE relname = 'query_cache_embeddings' AND relrowsecurity") == 1);
        Assert.Equal(0, (await CliAsync("security", "rls", "disable")).ExitCode);
        Assert.Equal(3, await CountEntriesAsync());

        // A tenant's own graph, built and dropped; an unknown tenant is refused with the reason.
        Assert.Contains("walk its own graph", (await CliAsync("graph", "build", "acme")).Output);
        Assert.Contains("already has its own graph", (await CliAsync("graph", "build", "acme")).Output);
        Assert.Equal(1, await TestData.ScalarAsync(Database.ConnectionString,
            "SELECT count(*) FROM pg_class WHERE oid = askwealth.query_cache_tenant_graph('acme')"));
        var unknown = await CliAsync("graph", "build", "nobody");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("has no entries and no settings", unknown.Error);
        Assert.Contains("walk the shared graph", (await CliAsync("graph", "drop", "acme")).Output);
        Assert.Contains("had no graph of its own", (await CliAsync("graph", "drop", "acme")).Output);
        var tooLong = await CliAsync("graph", "build", "acme", "--prefix-dimensions", DatabaseFixture.Dimensions.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(CliApp.Usage, tooLong.ExitCode);
        Assert.Contains($"pass 1 to {DatabaseFixture.Dimensions - 1}", tooLong.Error);
        Assert.Contains("walk its own graph", (await CliAsync("graph", "build", "acme", "--prefix-dimensions", "16")).Output);
        Assert.Equal(16, await TestData.ScalarAsync(Database.ConnectionString,
            "SELECT a.atttypmod FROM pg_attribute a WHERE a.attrelid = askwealth.query_cache_tenant_graph('acme') AND a.attnum = 1"));
        Assert.Contains("walk the shared graph", (await CliAsync("graph", "drop", "acme")).Output);

        var cleanup = await CliAsync("cleanup");
        Assert.Equal(0, cleanup.ExitCode);
        Assert.Contains("1 entries deleted", cleanup.Output);
        Assert.Equal(2, await CountEntriesAsync());
        Assert.Equal(0, (await CliAsync("config", "reset", "--tenant", "acme")).ExitCode);
        Assert.Contains("max_cache_entries 5000", (await CliAsync("config", "get", "--tenant", "acme")).Output);

        var declined = await RunAsync(Database.ConnectionString, "no\n", "invalidate", "--tenant", "globex");
        Assert.Equal(CliApp.Usage, declined.ExitCode);
        Assert.Equal(2, await CountEntriesAsync());
        var confirmed = await RunAsync(Database.ConnectionString, "yes\n", "invalidate", "--tenant", "globex");
        Assert.Equal(0, confirmed.ExitCode);
        Assert.Contains("deleted 1 entries", confirmed.Output);
        Assert.Equal(1, await CountEntriesAsync());
        Assert.Equal(0, (await CliAsync("invalidate", "--all", "--yes")).ExitCode);
        Assert.Equal(0, await CountEntriesAsync());
    }

    [Fact]
    public async Task Migrate_quickstart_and_backfill_run_on_a_fresh_database_twice()
    {
        var cs = await Database.CreateDatabaseAsync("cli_quickstart");
        Assert.Equal(0, (await RunAsync(cs, "", "migrate")).ExitCode);
        Assert.Equal(0, (await RunAsync(cs, "", "migrate")).ExitCode);

        var first = await RunAsync(cs, "", "quickstart");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("HIT  similarity", first.Output);
        Assert.Contains("MISS nearest similarity", first.Output);
        // Not a terminal: a progress line per committed batch, the last one at the total.
        var progress = System.Text.RegularExpressions.Regex.Matches(first.Error, @"backfill: (\d+)/(\d+) pairs");
        Assert.NotEmpty(progress);
        Assert.Equal(progress[^1].Groups[2].Value, progress[^1].Groups[1].Value);
        // Every answered question is cached but the time-relative ones, which the default admission policy refuses.
        var pairs = await TestData.ScalarAsync(cs, "SELECT count(*) FROM askwealth.v_cached_qa_pairs");
        Assert.True(pairs > 500, $"the sample history has only {pairs} answered questions");
        var policy = new TimeSensitiveAdmissionPolicy(Microsoft.Extensions.Options.Options.Create(new QueryCacheOptions()));
        await using (var connection = new NpgsqlConnection(cs))
        {
            var questions = await connection.QueryAsync<string>("SELECT question FROM askwealth.v_cached_qa_pairs");
            pairs -= questions.Count(policy.IsTimeSensitive);
        }

        Assert.Equal(pairs, await TestData.ScalarAsync(cs, "SELECT count(*) FROM askwealth.query_cache_embeddings"));

        var second = await RunAsync(cs, "", "quickstart");
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("0 messages loaded now", second.Output);
        Assert.Contains("0 cached now", second.Output);

        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.ExecuteAsync("DELETE FROM askwealth.query_cache_embeddings WHERE tenant_id = 'harbor-advisors'");
        }

        var backfill = await RunAsync(cs, "", "backfill", "--tenant", "harbor-advisors", "--batch-size", "50");
        Assert.Equal(0, backfill.ExitCode);
        Assert.Equal(pairs, await TestData.ScalarAsync(cs, "SELECT count(*) FROM askwealth.query_cache_embeddings"));

        Assert.Equal(0, (await RunAsync(cs, "", "migrate", "--target", "0")).ExitCode);
        Assert.Equal(0, await TestData.ScalarAsync(cs, "SELECT count(*) FROM pg_class WHERE relname LIKE 'query_cache%'"));
    }
}
