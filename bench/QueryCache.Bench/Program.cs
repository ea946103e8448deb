// QueryCache benchmark: lookups through QueryCacheService against the floor (a bare, unfiltered HNSW walk on the same
// table and index) for a large tenant and 1% tenants, decisions against an exact scan, stores, storage, eviction and
// VACUUM, all in one run per table size. Run: eng/bench.sh [options]; eng/bench.sh --help lists them.
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QueryCache;
using QueryCache.Bench;

var sizesOption = new Option<string>("--sizes") { Description = "Table sizes to measure, comma-separated", DefaultValueFactory = _ => "10000,100000" };
var largeOption = new Option<bool>("--large") { Description = "Also measure 300,000 entries" };
var dimensionsOption = new Option<int>("--dims") { Description = "Embedding dimension", DefaultValueFactory = _ => 1536 };
var queriesOption = new Option<int>("--queries") { Description = "Lookups per size (half to the large tenant, half to 1% tenants)", DefaultValueFactory = _ => 400 };
var precisionOption = new Option<EmbeddingPrecision>("--precision") { Description = "Embedding column precision", DefaultValueFactory = _ => EmbeddingPrecision.Half };
var efSearchOption = new Option<int?>("--ef-search") { Description = $"querycache.ef_search for the lookups and the floor (default {QueryCacheSchema.LookupSettings.DefaultEfSearch})" };
var hitRecordingOption = new Option<HitRecordingMode>("--hit-recording") { Description = "How hits are recorded", DefaultValueFactory = _ => HitRecordingMode.Immediate };
var skipVacuumOption = new Option<bool>("--skip-vacuum") { Description = "Do not time the VACUUM after the 10% eviction" };
var keepOption = new Option<bool>("--keep") { Description = "Keep the benchmark databases" };
var scaleOutOption = new Option<bool>("--scale-out") { Description = "Measure scaling out instead: primary only vs primary + --standby, the in-process tier (first size only)" };
var standbyOption = new Option<string?>("--standby") { Description = "Connection string of a streaming standby of the server (eng/bench.sh --scale-out starts one)" };
var clientsOption = new Option<int>("--clients") { Description = "Concurrent clients of the --scale-out lookups", DefaultValueFactory = _ => 4 };
var embeddingOption = new Option<bool>("--embedding") { Description = "Measure the in-process model instead (no database): cold start, memory, single, batched, concurrent" };
var answerTimeOption = new Option<bool>("--answer-time") { Description = "Measure the time to an answer with the local model instead: embedding, lookup, both, over a table of the first size (use --dims 384)" };
var rlsOption = new Option<bool>("--rls") { Description = "Measure what row-level security costs a lookup instead: off and on, through a granted role, over a table of the first size" };
var efConstructionOption = new Option<int?>("--ef-construction") { Description = "Build the HNSW index with this ef_construction instead of the migrations' (to compare build settings)" };
var mOption = new Option<int?>("--m") { Description = "Build the HNSW index with this m instead of the migrations' (to compare build settings)" };
var tenantGraphOption = new Option<bool>("--tenant-graph") { Description = "Give the large tenant a graph of its own (BuildTenantGraphAsync) after loading" };
var tenantGraphPrefixOption = new Option<int?>("--tenant-graph-prefix") { Description = "With --tenant-graph: build it on the embeddings' first N dimensions (a prefix graph)" };
var prefixRecallOption = new Option<int[]>("--prefix-recall") { Description = "Measure instead whether a prefix graph of N dimensions finds what all of them find, with the local model on ../shared/eval-external (no database)", AllowMultipleArgumentsPerToken = true };
var connectionOption = new Option<string?>("--connection") { Description = "Server to use (default: QUERYCACHE_CONNECTION; eng/bench.sh sets it)" };
var root = new RootCommand("QueryCache benchmark")
{
    sizesOption, largeOption, dimensionsOption, queriesOption, precisionOption, efSearchOption, hitRecordingOption, skipVacuumOption,
    keepOption, scaleOutOption, standbyOption, clientsOption, embeddingOption, answerTimeOption, rlsOption, efConstructionOption, mOption, tenantGraphOption, tenantGraphPrefixOption, prefixRecallOption, connectionOption,
};
root.SetAction(async (parse, ct) =>
{
    if (parse.GetValue(embeddingOption))
    {
        Console.WriteLine($"QueryCache benchmark: {LocalEmbeddingGenerator.ModelName} in process, {Environment.ProcessorCount} cores, command: eng/bench.sh {string.Join(' ', args)}");
        await PrintAndSaveAsync("embedding", await EmbeddingRun.RunAsync(Path.Combine("eval", "askwealth-pairs.csv"), ct), ct);
        return 0;
    }

    if (parse.GetValue(prefixRecallOption) is { Length: > 0 } prefixes)
    {
        var external = Path.Combine("..", "shared", "eval-external");
        Console.WriteLine($"QueryCache benchmark: prefix graphs of {string.Join(", ", prefixes)} dimensions, {LocalEmbeddingGenerator.ModelName}, the pairs of {external}, command: eng/bench.sh {string.Join(' ', args)}");
        await PrintAndSaveAsync("prefix-recall", await PrefixRecallRun.RunAsync(Directory.GetFiles(external, "*.csv").Order().ToList(), prefixes, ct), ct);
        return 0;
    }

    var server = parse.GetValue(connectionOption) ?? Environment.GetEnvironmentVariable("QUERYCACHE_CONNECTION");
    if (string.IsNullOrWhiteSpace(server))
    {
        await Console.Error.WriteLineAsync("Set QUERYCACHE_CONNECTION or pass --connection (eng/bench.sh does).");
        return 2;
    }

    var sizes = parse.GetValue(sizesOption)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
    if (parse.GetValue(largeOption))
    {
        sizes.Add(300_000);
    }

    var settings = new BenchSettings(server, parse.GetValue(dimensionsOption), parse.GetValue(queriesOption), parse.GetValue(precisionOption),
        parse.GetValue(efSearchOption) ?? QueryCacheSchema.LookupSettings.DefaultEfSearch,
        parse.GetValue(hitRecordingOption), !parse.GetValue(skipVacuumOption), parse.GetValue(keepOption), parse.GetValue(efConstructionOption),
        parse.GetValue(mOption), parse.GetValue(tenantGraphOption) || parse.GetValue(tenantGraphPrefixOption) is not null,
        parse.GetValue(tenantGraphPrefixOption));
    Console.WriteLine($"QueryCache benchmark: {Environment.ProcessorCount} cores, {settings.Dimensions} dimensions, {settings.Precision} precision, " +
        $"ef_search {settings.EfSearch}{(settings.TenantGraph ? ", the large tenant's own graph" : "")}{(settings.TenantGraphPrefix is { } prefix ? $" of {prefix} dimensions" : "")}, {settings.Queries} lookups per size, command: eng/bench.sh {string.Join(' ', args)}");
    if (parse.GetValue(scaleOutOption))
    {
        if (parse.GetValue(standbyOption) is not { } standby)
        {
            await Console.Error.WriteLineAsync("--scale-out needs --standby (eng/bench.sh --scale-out passes the local standby).");
            return 2;
        }

        await PrintAndSaveAsync("scale-out", await ScaleOutRun.RunAsync(settings, standby, sizes[0], parse.GetValue(clientsOption)), ct);
        return 0;
    }

    if (parse.GetValue(answerTimeOption))
    {
        await PrintAndSaveAsync("answer-time", await AnswerTimeRun.RunAsync(settings, Path.Combine("eval", "askwealth-pairs.csv"), sizes[0]), ct);
        return 0;
    }

    if (parse.GetValue(rlsOption))
    {
        await PrintAndSaveAsync("rls", await SecurityRun.RunAsync(settings, sizes[0]), ct);
        return 0;
    }

    var results = new List<SizeResult>();
    foreach (var size in sizes)
    {
        Console.WriteLine($"== {size:N0} entries ==");
        var result = await SizeRun.RunAsync(settings, size, ct);
        results.Add(result);
        foreach (var (key, value) in result.Figures)
        {
            Console.WriteLine($"  {key,-48} {Format(value)}");
        }

        foreach (var check in result.Checks)
        {
            Console.WriteLine($"  {(check.Met ? "met    " : "NOT MET")} {check.Target}: {check.Measured}");
        }
    }

    var folder = Path.Combine("artifacts", "bench");
    Directory.CreateDirectory(folder);
    var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
    await File.WriteAllTextAsync(Path.Combine(folder, $"results-{stamp}.json"),
        JsonSerializer.Serialize(results.Select(r => new { r.Figures, r.Checks }), new JsonSerializerOptions { WriteIndented = true }), ct);
    var table = MarkdownTable(results);
    await File.WriteAllTextAsync(Path.Combine(folder, $"results-{stamp}.md"), table, ct);
    Console.WriteLine();
    Console.WriteLine(table);
    return results.SelectMany(r => r.Checks).All(c => c.Met) ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();

// One figure a line on the console, and the lot as JSON in artifacts/bench/NAME-TIME.json.
static async Task PrintAndSaveAsync(string name, Dictionary<string, object> figures, CancellationToken ct)
{
    foreach (var (key, value) in figures)
    {
        Console.WriteLine($"  {key,-48} {Format(value)}");
    }

    Directory.CreateDirectory(Path.Combine("artifacts", "bench"));
    await File.WriteAllTextAsync(Path.Combine("artifacts", "bench", $"{name}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.json"),
        JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }), ct);
}

static string Format(object value) => value switch
{
    double d => d.ToString("0.###", CultureInfo.InvariantCulture),
    _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
};

static string MarkdownTable(List<SizeResult> results)
{
    var md = new StringBuilder($"| figure | {string.Join(" | ", results.Select(r => $"{r.Figures["entries"]:N0}"))} |\n|---|{string.Concat(results.Select(_ => "---|"))}\n");
    foreach (var key in results[0].Figures.Keys.Where(k => k != "entries"))
    {
        md.Append(CultureInfo.InvariantCulture,
            $"| {key} | {string.Join(" | ", results.Select(r => r.Figures.TryGetValue(key, out var v) ? Format(v) : ""))} |\n");
    }

    foreach (var (check, i) in results[0].Checks.Select((c, i) => (c, i)))
    {
        md.Append(CultureInfo.InvariantCulture,
            $"| {check.Target} | {string.Join(" | ", results.Select(r => $"{(r.Checks[i].Met ? "met" : "**not met**")}: {r.Checks[i].Measured}"))} |\n");
    }

    return md.ToString();
}
