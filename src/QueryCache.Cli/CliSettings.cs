using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Npgsql;
using OpenAI;
using QueryCache.Data;

namespace QueryCache.Cli;

/// <summary>Where the CLI's database and embedding model come from: an option, else the environment, else the config file.</summary>
internal sealed record CliSettings(string ConnectionString, int Dimensions, string EmbeddingModel, string? EmbeddingEndpoint, string? EmbeddingApiKey)
{
    public const string ConnectionVariable = "QUERYCACHE_CONNECTION";
    public const string DimensionsVariable = "QUERYCACHE_DIMENSIONS";
    public const string EndpointVariable = "QUERYCACHE_EMBEDDING_ENDPOINT";
    public const string ModelVariable = "QUERYCACHE_EMBEDDING_MODEL";
    public const string ApiKeyVariable = "QUERYCACHE_EMBEDDING_API_KEY";
    public const string DefaultConfigFile = "querycache.json";

    public bool UsesLocalEmbedder => EmbeddingEndpoint is null;

    public static CliSettings Resolve(string? connectionOption, string? configPath, Func<string, string?> environment)
    {
        var file = ReadConfigFile(configPath);
        var connection = connectionOption ?? environment(ConnectionVariable) ?? file.GetValueOrDefault("ConnectionString");
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new CliUsageException(
                $"No database to work on: pass --connection \"Host=...;Database=...\", set {ConnectionVariable}, or put \"ConnectionString\" in {DefaultConfigFile}. " +
                $"For a local PostgreSQL with pgvector: export {ConnectionVariable}=$(eng/db.sh start)");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connection);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"The connection string is not valid ({ex.Message}); it looks like \"Host=127.0.0.1;Port=5432;Database=app;Username=...;Password=...\".");
        }

        var dimensionsText = environment(DimensionsVariable) ?? file.GetValueOrDefault("Dimensions");
        var dimensions = QueryCacheSchema.DefaultDimensions;
        if (dimensionsText is not null && (!int.TryParse(dimensionsText, NumberStyles.None, CultureInfo.InvariantCulture, out dimensions)
            || dimensions is < 16 or > QueryCacheSchema.MaxIndexedDimensions))
        {
            throw new CliUsageException($"{DimensionsVariable}='{dimensionsText}' is not an embedding size from 16 to {QueryCacheSchema.MaxIndexedDimensions}; use your model's output size, for example 1536.");
        }

        var endpoint = environment(EndpointVariable) ?? file.GetValueOrDefault("EmbeddingEndpoint");
        var model = environment(ModelVariable) ?? file.GetValueOrDefault("EmbeddingModel");
        if (endpoint is not null && string.IsNullOrWhiteSpace(model))
        {
            throw new CliUsageException($"{EndpointVariable} is set but {ModelVariable} is not; name the embedding model to call, for example text-embedding-3-small.");
        }

        return new CliSettings(connection, dimensions, endpoint is null ? LocalNgramEmbeddingGenerator.ModelName : model!, endpoint,
            environment(ApiKeyVariable) ?? file.GetValueOrDefault("EmbeddingApiKey"));
    }

    /// <summary>An OpenAI-compatible endpoint when one is configured, else the built-in local embedder.</summary>
    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator() => UsesLocalEmbedder
        ? new LocalNgramEmbeddingGenerator(Dimensions)
        : new OpenAIClient(new ApiKeyCredential(EmbeddingApiKey ?? "unused"), new OpenAIClientOptions { Endpoint = new Uri(EmbeddingEndpoint!) })
            .GetEmbeddingClient(EmbeddingModel)
            .AsIEmbeddingGenerator(Dimensions);

    private static Dictionary<string, string> ReadConfigFile(string? path)
    {
        var explicitPath = path is not null;
        path ??= DefaultConfigFile;
        if (!File.Exists(path))
        {
            return explicitPath
                ? throw new CliUsageException($"The config file '{path}' does not exist; pass the path of a JSON file like {{\"ConnectionString\": \"Host=...\"}}.")
                : [];
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"The config file '{path}' is not valid JSON ({ex.Message}).");
        }
    }
}

/// <summary>Wrong usage: the message says what to do instead. Exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
