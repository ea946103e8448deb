using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace QueryCache.Migrations;

/// <summary>
/// The database to migrate, bound from configuration keys <c>ConnectionString</c>, <c>Dimensions</c> and <c>Precision</c>;
/// the environment supplies them as <c>QUERYCACHE_CONNECTION</c>, <c>QUERYCACHE_DIMENSIONS</c> and
/// <c>QUERYCACHE_PRECISION</c> (<c>Half</c> or <c>Full</c>). The CLI's settings extend these.
/// </summary>
public class MigrationSettings : IValidatableObject
{
    /// <summary>The environment variable of the connection string.</summary>
    public const string ConnectionVariable = "QUERYCACHE_CONNECTION";
    /// <summary>The environment variable of the embedding dimension.</summary>
    public const string DimensionsVariable = "QUERYCACHE_DIMENSIONS";
    /// <summary>The environment variable of the precision (<c>Half</c> or <c>Full</c>).</summary>
    public const string PrecisionVariable = "QUERYCACHE_PRECISION";

    /// <summary>Environment variable → configuration key, for every variable these settings read.</summary>
    public virtual IReadOnlyDictionary<string, string> EnvironmentKeys { get; } = new Dictionary<string, string>
    {
        [ConnectionVariable] = nameof(ConnectionString),
        [DimensionsVariable] = nameof(Dimensions),
        [PrecisionVariable] = nameof(Precision),
    };

    /// <summary>The database to migrate.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The size of the embedding column.</summary>
    [Range(1, QueryCacheSchema.MaxIndexedDimensions,
        ErrorMessage = "The embedding dimension {0} must be from {1} to {2}; use your model's output size, for example 1536.")]
    public int Dimensions { get; set; } = QueryCacheSchema.DefaultDimensions;

    /// <summary>The embedding column's type: <c>halfvec</c> (Half) or <c>vector</c> (Full).</summary>
    [EnumDataType(typeof(EmbeddingPrecision), ErrorMessage = "The precision must be Half (halfvec) or Full (vector).")]
    public EmbeddingPrecision Precision { get; set; } = EmbeddingPrecision.Half;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Precision == EmbeddingPrecision.Full && Dimensions > QueryCacheSchema.MaxIndexedFullDimensions)
        {
            yield return new ValidationResult(
                $"Full precision (vector) indexes at most {QueryCacheSchema.MaxIndexedFullDimensions} dimensions and the dimension is {Dimensions}; use Half precision (halfvec, up to {QueryCacheSchema.MaxIndexedDimensions}).",
                [nameof(Precision)]);
        }
    }

    /// <summary>The environment's values, under their configuration keys, for <c>AddInMemoryCollection</c>.</summary>
    /// <param name="environment">Reads an environment variable.</param>
    /// <returns>The key/value pairs of the variables that are set.</returns>
    public IEnumerable<KeyValuePair<string, string?>> FromEnvironment(Func<string, string?> environment) =>
        EnvironmentKeys.Select(k => KeyValuePair.Create(k.Value, environment(k.Key))).Where(k => k.Value is not null);

    /// <summary>Binds and validates settings; a value that does not convert or validate is a <see cref="SettingsException"/> naming its key.</summary>
    /// <typeparam name="T">These settings or an extension of them.</typeparam>
    /// <param name="configuration">The configuration to bind.</param>
    /// <returns>The settings.</returns>
    public static T Bind<T>(IConfiguration configuration)
        where T : MigrationSettings, new()
    {
        var settings = new T();
        try
        {
            configuration.Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new SettingsException($"{ex.Message} ({ex.InnerException?.Message})", ex);
        }

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(settings, new ValidationContext(settings), errors, validateAllProperties: true))
        {
            throw new SettingsException(string.Join(" ", errors.Select(e => e.ErrorMessage)));
        }

        return settings;
    }

    /// <summary>The settings from the process environment, as <c>dotnet ef</c> runs with them.</summary>
    /// <returns>The settings.</returns>
    public static MigrationSettings FromProcessEnvironment() =>
        Bind<MigrationSettings>(new ConfigurationBuilder()
            .AddInMemoryCollection(new MigrationSettings().FromEnvironment(Environment.GetEnvironmentVariable))
            .Build());
}

/// <summary>A setting is missing or invalid; the message names it and says what it should be.</summary>
/// <param name="message">What is wrong and how to fix it.</param>
/// <param name="inner">The conversion error, if any.</param>
public sealed class SettingsException(string message, Exception? inner = null) : Exception(message, inner);
