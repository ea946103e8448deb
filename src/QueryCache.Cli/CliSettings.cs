using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Npgsql;
using OpenAI;
using QueryCache.Migrations;

namespace QueryCache.Cli;

/// <summary>
/// Where the CLI's database and embedding model come from, highest first: a command-line option, the environment
/// (<c>QUERYCACHE_*</c>), the JSON config file (<c>--config</c>, else <c>./querycache.json</c> when it exists), with the
/// same keys in the file as the properties here.
/// </summary>
internal sealed class CliSettings : MigrationSettings
{
    public const string EndpointVariable = "QUERYCACHE_EMBEDDING_ENDPOINT";
    public const string ModelVariable = "QUERYCACHE_EMBEDDING_MODEL";
    public const string ApiKeyVariable = "QUERYCACHE_EMBEDDING_API_KEY";
    public const string DefaultConfigFile = "querycache.json";

    public override IReadOnlyDictionary<string, string> EnvironmentKeys { get; } = new Dictionary<string, string>
    {
        [ConnectionVariable] = nameof(ConnectionString),
        [DimensionsVariable] = nameof(Dimensions),
        [PrecisionVariable] = nameof(Precision),
        [EndpointVariable] = nameof(EmbeddingEndpoint),
        [ModelVariable] = nameof(EmbeddingModel),
        [ApiKeyVariable] = nameof(EmbeddingApiKey),
    };

    /// <summary>An OpenAI-compatible embeddings endpoint; without one the built-in model (all-MiniLM-L6-v2, in process) is used.</summary>
    public string? EmbeddingEndpoint { get; set; }

    /// <summary>The model to call at <see cref="EmbeddingEndpoint"/>; its name is stored with every entry.</summary>
    public string? EmbeddingModel { get; set; }

    public string? EmbeddingApiKey { get; set; }

    public bool UsesLocalEmbedder => EmbeddingEndpoint is null;

    /// <summary>The model name entries are stored under.</summary>
    public string ModelName => UsesLocalEmbedder ? LocalEmbeddingGenerator.ModelName : EmbeddingModel!;

    /// <param name="connectionOption">The <c>--connection</c> value.</param>
    /// <param name="configPath">The <c>--config</c> value.</param>
    /// <param name="environment">Reads environment variables.</param>
    /// <param name="requireDatabase">False for a command that can work without a database (evaluate without --apply).</param>
    public static CliSettings Load(string? connectionOption, string? configPath, Func<string, string?> environment, bool requireDatabase = true)
    {
        var builder = new ConfigurationBuilder();
        if (configPath is not null && !File.Exists(configPath))
        {
            throw new CliUsageException($"The config file '{configPath}' does not exist; pass the path of a JSON file like {{\"ConnectionString\": \"Host=...\"}}.");
        }

        var file = Path.GetFullPath(configPath ?? DefaultConfigFile);
        builder.AddJsonFile(file, optional: true, reloadOnChange: false)
            .AddInMemoryCollection(new CliSettings().FromEnvironment(environment))
            .AddInMemoryCollection(connectionOption is null ? [] : [KeyValuePair.Create(nameof(ConnectionString), (string?)connectionOption)]);

        IConfiguration configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (InvalidDataException ex)
        {
            throw new CliUsageException($"The config file '{file}' is not valid JSON ({ex.InnerException?.Message ?? ex.Message}).");
        }

        CliSettings settings;
        try
        {
            settings = Bind<CliSettings>(configuration);
        }
        catch (SettingsException ex)
        {
            throw new CliUsageException($"{ex.Message} Set {DimensionsVariable} (or \"Dimensions\" in {DefaultConfigFile}) to your model's output size, for example 1536.");
        }

        // The built-in model decides the size unless one is set.
        if (settings.UsesLocalEmbedder && configuration[nameof(Dimensions)] is null)
        {
            settings.Dimensions = LocalEmbeddingGenerator.Dimensions;
        }

        return settings.Validated(requireDatabase);
    }

    /// <summary>An OpenAI-compatible endpoint when one is configured, else the built-in model.</summary>
    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator() => UsesLocalEmbedder
        ? new LocalEmbeddingGenerator()
        : new OpenAIClient(new ApiKeyCredential(EmbeddingApiKey ?? "unused"), new OpenAIClientOptions { Endpoint = new Uri(EmbeddingEndpoint!) })
            .GetEmbeddingClient(EmbeddingModel)
            .AsIEmbeddingGenerator(Dimensions);

    private CliSettings Validated(bool requireDatabase)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && requireDatabase)
        {
            throw new CliUsageException(
                $"No database to work on: pass --connection \"Host=...;Database=...\", set {ConnectionVariable}, or put \"ConnectionString\" in {DefaultConfigFile}. " +
                $"For a local PostgreSQL with pgvector: export {ConnectionVariable}=$(eng/db.sh start)");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(ConnectionString ?? "");
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"The connection string is not valid ({ex.Message}); it looks like \"Host=127.0.0.1;Port=5432;Database=app;Username=...;Password=...\".");
        }

        if (EmbeddingEndpoint is not null && string.IsNullOrWhiteSpace(EmbeddingModel))
        {
            throw new CliUsageException($"{EndpointVariable} is set but {ModelVariable} is not; name the embedding model to call, for example text-embedding-3-small.");
        }

        if (UsesLocalEmbedder && Dimensions != LocalEmbeddingGenerator.Dimensions)
        {
            throw new CliUsageException(
                $"The built-in model {LocalEmbeddingGenerator.ModelName} produces {LocalEmbeddingGenerator.Dimensions} dimensions and {DimensionsVariable} is {Dimensions}; " +
                $"unset {DimensionsVariable}, or set {EndpointVariable} and {ModelVariable} to a model of {Dimensions} dimensions.");
        }

        return this;
    }
}

/// <summary>Wrong usage: the message says what to do instead. Exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
