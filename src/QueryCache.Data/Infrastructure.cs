using System.Globalization;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Data;

/// <summary>The embedding column a database is migrated with: its dimension and precision.</summary>
internal readonly record struct EmbeddingColumn(int Dimensions, EmbeddingPrecision Precision)
{
    public static EmbeddingColumn Default { get; } = new(QueryCacheSchema.DefaultDimensions, EmbeddingPrecision.Half);

    /// <summary>The SQL type without the dimension: <c>halfvec</c> or <c>vector</c>.</summary>
    public string VectorType => QueryCacheSchema.VectorType(Precision);

    /// <summary>The column's SQL type, for example <c>halfvec(1536)</c>.</summary>
    public string SqlType => string.Create(CultureInfo.InvariantCulture, $"{VectorType}({Dimensions})");
}

/// <summary>A migration whose SQL depends on the embedding column (its dimension, its precision).</summary>
internal abstract class EmbeddingColumnMigration : Migration
{
    /// <summary>The embedding column of the database being migrated; set before <c>Up</c>/<c>Down</c> run.</summary>
    public EmbeddingColumn Column { get; internal set; } = EmbeddingColumn.Default;

    /// <summary>The embedding dimension of the database being migrated.</summary>
    public int Dimensions => Column.Dimensions;
}

/// <summary>Carries the embedding column in the context's options, so that the migrations see it.</summary>
internal sealed class QueryCacheOptionsExtension(EmbeddingColumn column) : IDbContextOptionsExtension
{
    public EmbeddingColumn Column { get; } = column;

    public DbContextOptionsExtensionInfo Info => new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
    }

    public void Validate(IDbContextOptions options)
    {
    }

    public static EmbeddingColumn ColumnOf(IDbContextOptions options) =>
        options.FindExtension<QueryCacheOptionsExtension>()?.Column ?? EmbeddingColumn.Default;

    private sealed class ExtensionInfo(QueryCacheOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => $"Embedding={extension.Column.SqlType} ";

        public override int GetServiceProviderHashCode() => extension.Column.GetHashCode();

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) =>
            other is ExtensionInfo info && info.Extension is QueryCacheOptionsExtension e && e.Column == extension.Column;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo) =>
            debugInfo["QueryCache:Embedding"] = extension.Column.SqlType;
    }
}

/// <summary>Hands the configured embedding column to each <see cref="EmbeddingColumnMigration"/> it creates.</summary>
#pragma warning disable EF1001 // MigrationsAssembly is EF's own extension point for creating migrations.
internal sealed class EmbeddingColumnMigrationsAssembly(
    ICurrentDbContext currentContext,
    IDbContextOptions options,
    IMigrationsIdGenerator idGenerator,
    IDiagnosticsLogger<DbLoggerCategory.Migrations> logger)
    : MigrationsAssembly(currentContext, options, idGenerator, logger)
{
    private readonly EmbeddingColumn _column = QueryCacheOptionsExtension.ColumnOf(options);

    public override Migration CreateMigration(TypeInfo migrationClass, string activeProvider)
    {
        var migration = base.CreateMigration(migrationClass, activeProvider);
        if (migration is EmbeddingColumnMigration embeddingMigration)
        {
            embeddingMigration.Column = _column;
        }

        return migration;
    }
}
#pragma warning restore EF1001
