using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Data;

/// <summary>A migration whose SQL depends on the configured embedding dimension.</summary>
internal abstract class DimensionedMigration : Migration
{
    /// <summary>The embedding dimension of the database being migrated; set before <c>Up</c>/<c>Down</c> run.</summary>
    public int Dimensions { get; internal set; } = QueryCacheSchema.DefaultDimensions;
}

/// <summary>Carries the embedding dimension in the context's options, so the model and the migrations see it.</summary>
internal sealed class QueryCacheOptionsExtension(int dimensions) : IDbContextOptionsExtension
{
    public int Dimensions { get; } = dimensions;

    public DbContextOptionsExtensionInfo Info => new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
    }

    public void Validate(IDbContextOptions options)
    {
    }

    public static int DimensionsOf(IDbContextOptions options) =>
        options.FindExtension<QueryCacheOptionsExtension>()?.Dimensions ?? QueryCacheSchema.DefaultDimensions;

    private sealed class ExtensionInfo(QueryCacheOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => $"Dimensions={extension.Dimensions} ";

        public override int GetServiceProviderHashCode() => extension.Dimensions;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) =>
            other is ExtensionInfo info && info.Extension is QueryCacheOptionsExtension e && e.Dimensions == extension.Dimensions;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo) =>
            debugInfo["QueryCache:Dimensions"] = extension.Dimensions.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Builds one model per embedding dimension instead of one per context type.</summary>
internal sealed class DimensionsModelCacheKeyFactory : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) =>
        (context.GetType(), designTime, (context as QueryCacheDbContext)?.Dimensions);
}

/// <summary>Hands the configured embedding dimension to each <see cref="DimensionedMigration"/> it creates.</summary>
#pragma warning disable EF1001 // MigrationsAssembly is EF's own extension point for creating migrations.
internal sealed class DimensionsMigrationsAssembly(
    ICurrentDbContext currentContext,
    IDbContextOptions options,
    IMigrationsIdGenerator idGenerator,
    IDiagnosticsLogger<DbLoggerCategory.Migrations> logger)
    : MigrationsAssembly(currentContext, options, idGenerator, logger)
{
    private readonly int _dimensions = QueryCacheOptionsExtension.DimensionsOf(options);

    public override Migration CreateMigration(TypeInfo migrationClass, string activeProvider)
    {
        var migration = base.CreateMigration(migrationClass, activeProvider);
        if (migration is DimensionedMigration dimensioned)
        {
            dimensioned.Dimensions = _dimensions;
        }

        return migration;
    }
}
#pragma warning restore EF1001
