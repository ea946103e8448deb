using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Migrations;
using Spectre.Console;

namespace QueryCache.Cli;

/// <summary>What every command shares: its streams, the environment, the global options and the services built from the settings.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, TextReader input, Func<string, string?> environment)
{
    public Option<string?> Connection { get; } = new("--connection", "-c")
    {
        Description = $"Npgsql connection string of the app database (else ${CliSettings.ConnectionVariable}, else {CliSettings.DefaultConfigFile})",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = $"JSON config file with ConnectionString, Dimensions, Precision, EmbeddingEndpoint, EmbeddingModel, EmbeddingApiKey (default ./{CliSettings.DefaultConfigFile})",
        Recursive = true,
    };

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public TextReader Input { get; } = input;

    /// <summary>Progress and prompts go to the error stream, so the output stays what a script reads.</summary>
    public IAnsiConsole Console { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });

    /// <summary>Tables for the output stream: plain text, wide enough not to wrap a report.</summary>
    public IAnsiConsole OutputConsole { get; } = Plain(output);

    public CliSettings Settings(ParseResult parse, bool requireDatabase = true) =>
        CliSettings.Load(parse.GetValue(Connection), parse.GetValue(Config), environment, requireDatabase);

    /// <summary>A command that calls one of the migrator's database functions with the configured connection and says what it did.</summary>
    public Command DatabaseCall(string name, string description, Func<string, CancellationToken, Task> call, string done)
    {
        var command = new Command(name, description);
        command.SetAction(async (parse, ct) =>
        {
            await call(Settings(parse).ConnectionString!, ct);
            await Output.WriteLineAsync(done);
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>Refuses a database whose embedding column was made for another model size, saying how to fix it.</summary>
    public static async Task EnsureModelFitsAsync(CliSettings settings, CancellationToken cancellationToken)
    {
        if (await QueryCacheMigrator.GetMigratedDimensionsAsync(settings.ConnectionString!, cancellationToken) is { } stored && stored != settings.Dimensions)
        {
            throw new CliUsageException(
                $"The cache in this database was migrated for {stored}-dimension embeddings and the model in use, {settings.ModelName}, makes {settings.Dimensions}. " +
                $"Use the model the cache was built with ({CliSettings.EndpointVariable}, {CliSettings.ModelVariable}, {CliSettings.DimensionsVariable}={stored}), " +
                $"or rebuild the cache for this model: `querycache migrate --target 0` then `querycache migrate` (this deletes the cached entries, not your messages).");
        }
    }

    private static IAnsiConsole Plain(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        return console;
    }

    /// <summary>
    /// The cache as a host would register it, with errors reported rather than swallowed (fail-open off: a CLI should
    /// say the database is down, not report a miss).
    /// </summary>
    public async Task<ServiceProvider> ServicesAsync(ParseResult parse, CancellationToken cancellationToken, Action<QueryCacheJobOptions>? jobs = null,
        Action<QueryCacheOptions>? configure = null)
    {
        var settings = Settings(parse);
        await EnsureModelFitsAsync(settings, cancellationToken);
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(settings.CreateEmbeddingGenerator());
        services.AddQueryCache(options =>
        {
            options.ConnectionString = settings.ConnectionString;
            options.Dimensions = settings.Dimensions;
            options.EmbeddingModel = settings.ModelName;
            options.FailOpen = false;
            options.BreakDuration = TimeSpan.Zero;
            options.LookupTimeout = TimeSpan.FromSeconds(30);
            options.StoreTimeout = TimeSpan.FromSeconds(30);
            configure?.Invoke(options);
        });
        if (jobs is not null)
        {
            services.Configure(jobs);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }
}
