using System.Diagnostics;
using Dapper;
using Npgsql;
using QueryCache.Migrations;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

[Collection(DatabaseTests.Name)]
public sealed class MigrationSafetyTests(DatabaseFixture database)
{
    [Fact]
    public async Task Migrations_applied_from_two_processes_at_once_and_twice_down_and_up_leave_an_identical_schema()
    {
        var cs = await database.CreateAppDatabaseAsync("migrate_race");
        var app = await AppDumpAsync(cs);

        // Two processes (two contexts, two connections) migrating at the same moment: EF serializes them with its lock.
        await Task.WhenAll(QueryCacheMigrator.MigrateAsync(cs), Task.Run(() => QueryCacheMigrator.MigrateAsync(cs)));
        var first = await SchemaDumpAsync(cs);
        await QueryCacheMigrator.MigrateAsync(cs);
        Assert.Equal(first, await SchemaDumpAsync(cs));

        await QueryCacheMigrator.MigrateAsync(cs, targetMigration: "0");
        Assert.Equal(app, await AppDumpAsync(cs));
        await QueryCacheMigrator.MigrateAsync(cs);

        Assert.Equal(first, await SchemaDumpAsync(cs));
        Assert.Equal(app, await AppDumpAsync(cs));
    }

    /// <summary><c>pg_dump --schema-only</c> of the whole database.</summary>
    private static async Task<string> SchemaDumpAsync(string cs) => await PgDumpAsync(cs, "--schema-only");

    private static async Task<string> AppDumpAsync(string cs) =>
        await PgDumpAsync(cs, "--table=public.app_orders", "--table=askwealth.message");

    private static async Task<string> PgDumpAsync(string cs, params string[] options)
    {
        var builder = new NpgsqlConnectionStringBuilder(cs);
        var pgDump = File.Exists("/usr/lib/postgresql/15/bin/pg_dump") ? "/usr/lib/postgresql/15/bin/pg_dump" : "pg_dump";
        var start = new ProcessStartInfo(pgDump, [.. options, "--no-owner", "-h", builder.Host!, "-p", builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", builder.Username!, builder.Database!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PGPASSWORD"] = builder.Password;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_dump failed: {error}");
        // Comments and the per-run \restrict key are not schema.
        return string.Join('\n', output.Split('\n').Where(line =>
            !line.StartsWith("--", StringComparison.Ordinal) && !line.StartsWith("\\restrict", StringComparison.Ordinal) && !line.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }
}
