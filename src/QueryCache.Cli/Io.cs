using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli;

/// <summary>What every command shares: its streams, the environment, and the services built from the settings.</summary>
internal sealed class Io(TextWriter output, TextWriter error, TextReader input, Func<string, string?> environment,
    Option<string?> connection, Option<string?> config)
{
    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;
    public TextReader Input { get; } = input;

    public CliSettings Settings(ParseResult parse) => CliSettings.Resolve(parse.GetValue(connection), parse.GetValue(config), environment);

    /// <summary>
    /// The cache as a host would register it, with errors reported rather than swallowed (fail-open off: a CLI should
    /// say the database is down, not report a miss). <paramref name="readOnly"/> records no hits.
    /// </summary>
    public ServiceProvider Services(ParseResult parse, Action<QueryCacheJobOptions>? jobs = null, bool readOnly = false)
    {
        var settings = Settings(parse);
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(settings.CreateEmbeddingGenerator());
        services.AddQueryCache(options =>
        {
            options.ConnectionString = settings.ConnectionString;
            options.Dimensions = settings.Dimensions;
            options.EmbeddingModel = settings.EmbeddingModel;
            options.FailOpen = false;
            options.LookupTimeout = TimeSpan.FromSeconds(30);
            options.StoreTimeout = TimeSpan.FromSeconds(30);
            options.HitRecording = readOnly ? HitRecordingMode.None : HitRecordingMode.Immediate;
        });
        if (jobs is not null)
        {
            services.Configure(jobs);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }
}
