using System.Diagnostics;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>
/// A PostgreSQL server of its own that tests may crash (<c>pg_ctl stop -m immediate</c>) and restart, started with the
/// project's eng/db.sh in a folder of its own, so the shared server is never disturbed.
/// </summary>
public sealed class FaultServer : IAsyncLifetime
{
    private readonly string _root = FindRoot();
    private readonly string _folder;

    public FaultServer() => _folder = Path.Combine(_root, ".local", "pg-faults");

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionString = await DatabaseFixture.RecreateDatabaseAsync((await DbAsync("start")).Trim(), "faults");
        await DatabaseFixture.MigrateAppDatabaseAsync(ConnectionString);
    }

    /// <summary>Crashes the server: every backend dies at once, as on a power cut.</summary>
    public Task KillAsync() => DbAsync("kill");

    public Task StartAsync() => DbAsync("start");

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await DbAsync("stop");
    }

    private Task<string> DbAsync(string verb) => RunDbScriptAsync(_root, _folder, verb);

    /// <summary>Runs eng/db.sh with <paramref name="arguments"/> on the cluster in <paramref name="folder"/>; returns its output.</summary>
    internal static async Task<string> RunDbScriptAsync(string root, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "db.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["QUERYCACHE_PG_DIR"] = folder;
        start.Environment.Remove("QUERYCACHE_CONNECTION");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"eng/db.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}. These tests need the local PostgreSQL binaries eng/db.sh installs; run eng/db.sh start once.");
        }

        return await output;
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "eng", "db.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("eng/db.sh not found above the test binaries; run the tests from the repository.");
    }
}

[CollectionDefinition(Name)]
public sealed class FaultServerTests : ICollectionFixture<FaultServer>
{
    public const string Name = "fault server";
}
