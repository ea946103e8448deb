using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using static QueryCache.QueryCacheSchema;

namespace QueryCache.Data;

/// <summary>
/// The EF Core model of the query cache schema. EF Core owns the schema (migrations); the runtime reads and writes it
/// with Dapper and never goes through this context, so it has no sets to query.
/// </summary>
/// <param name="options">Options built with <see cref="Configure"/>.</param>
public sealed partial class QueryCacheDbContext(DbContextOptions<QueryCacheDbContext> options) : DbContext(options)
{
    internal const string MigrationsAssemblyName = "QueryCache.Migrations";

    /// <summary>The embedding dimension of this database's embedding column.</summary>
    public int Dimensions => QueryCacheOptionsExtension.ColumnOf(options).Dimensions;

    /// <summary>How this database's embedding column stores each dimension.</summary>
    public EmbeddingPrecision Precision => QueryCacheOptionsExtension.ColumnOf(options).Precision;

    /// <summary>
    /// Configures <paramref name="builder"/> for the query cache: Npgsql with pgvector, the cache's own migrations
    /// history table, and the embedding column (dimension and precision) the migrations create.
    /// </summary>
    /// <param name="builder">The options builder to configure.</param>
    /// <param name="connectionString">The application database's connection string.</param>
    /// <param name="dimensions">Embedding dimension: 1 to 4000 with halfvec, to 2000 with vector (pgvector's HNSW limits). Must match the embedding model.</param>
    /// <param name="precision">How the column stores each dimension: <c>halfvec</c> (the default) or <c>vector</c>.</param>
    /// <returns>The same builder.</returns>
    public static DbContextOptionsBuilder<QueryCacheDbContext> Configure(
        DbContextOptionsBuilder<QueryCacheDbContext> builder, string connectionString, int dimensions = DefaultDimensions,
        EmbeddingPrecision precision = EmbeddingPrecision.Half)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!Enum.IsDefined(precision))
        {
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "Use EmbeddingPrecision.Half or EmbeddingPrecision.Full.");
        }

        if (dimensions < 1 || dimensions > MaxDimensions(precision))
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions,
                $"The embedding dimension must be between 1 and {MaxDimensions(precision)} (pgvector's HNSW limit for {VectorType(precision)}); use your embedding model's output size, for example 1536" +
                (precision == EmbeddingPrecision.Full && dimensions <= MaxIndexedDimensions ? $", or Half precision, which indexes up to {MaxIndexedDimensions}." : "."));
        }

        builder.UseNpgsql(connectionString, npgsql => npgsql
                .UseVector()
                .MigrationsAssembly(MigrationsAssemblyName)
                .MigrationsHistoryTable(MigrationsHistoryTable, Schema))
            .ReplaceService<IMigrationsAssembly, EmbeddingColumnMigrationsAssembly>();
        ((IDbContextOptionsBuilderInfrastructure)builder).AddOrUpdateExtension(
            new QueryCacheOptionsExtension(new EmbeddingColumn(dimensions, precision)));
        return builder;
    }

    /// <summary>A context configured with <see cref="Configure"/>.</summary>
    internal static QueryCacheDbContext Create(string connectionString, int dimensions, EmbeddingPrecision precision) =>
        new(Configure(new DbContextOptionsBuilder<QueryCacheDbContext>(), connectionString, dimensions, precision).Options);

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.HasPostgresExtension("vector");
        ConfigureConfig(modelBuilder);
        ConfigureEntries(modelBuilder);
        ConfigureHits(modelBuilder);
        ConfigureTenantSizes(modelBuilder);
        ConfigureTextEmbeddings(modelBuilder);
        ConfigureJobState(modelBuilder);
        ConfigureErasures(modelBuilder);
        ConfigureLabels(modelBuilder);
        ConfigureDecisions(modelBuilder);
        ConfigureWithdrawn(modelBuilder);
        ConfigureAskers(modelBuilder);
    }

    private static void ConfigureConfig(ModelBuilder modelBuilder) => modelBuilder.Entity<CacheConfigRow>(config =>
    {
        config.ToTable(Config.Table, t =>
        {
            t.HasCheckConstraint("ck_query_cache_config_threshold", $"{Config.SimilarityThreshold} BETWEEN 0 AND 1");
            t.HasCheckConstraint("ck_query_cache_config_max_entries", $"{Config.MaxCacheEntries} >= 1");
            t.HasCheckConstraint("ck_query_cache_config_ttl", $"{Config.DefaultTtl} > interval '0'");
            t.HasCheckConstraint("ck_query_cache_config_tenant", $"{Config.TenantId} <> ''");
            t.HasCheckConstraint("ck_query_cache_config_global_complete",
                $"{Config.TenantId} IS NOT NULL OR ({Config.SimilarityThreshold} IS NOT NULL AND {Config.CacheEnabled} IS NOT NULL AND {Config.MaxCacheEntries} IS NOT NULL)");
            t.HasCheckConstraint("ck_query_cache_config_share_after_askers", $"{Config.ShareAfterAskers} BETWEEN 1 AND 1000");
            t.HasCheckConstraint("ck_query_cache_config_global_sharing", $"{Config.TenantId} IS NOT NULL OR {Config.ShareAfterAskers} IS NOT NULL");
            t.HasCheckConstraint("ck_query_cache_config_global_guard",
                $"{Config.TenantId} IS NOT NULL OR ({Config.GuardEnabled} IS NOT NULL AND {Config.ContrastTerms} IS NOT NULL)");
        });
        config.HasKey(c => c.Id);
        // The seeded global row is id 1; generated ids start after it.
        config.Property(c => c.Id).HasColumnName(Config.Id).UseIdentityByDefaultColumn().HasIdentityOptions(startValue: 2);
        config.Property(c => c.TenantId).HasColumnName(Config.TenantId);
        config.Property(c => c.SimilarityThreshold).HasColumnName(Config.SimilarityThreshold);
        config.Property(c => c.CacheEnabled).HasColumnName(Config.CacheEnabled);
        config.Property(c => c.MaxCacheEntries).HasColumnName(Config.MaxCacheEntries);
        config.Property(c => c.DefaultTimeToLive).HasColumnName(Config.DefaultTtl);
        config.Property(c => c.UpdatedAt).HasColumnName(Config.UpdatedAt).HasDefaultValueSql("now()");
        config.Property(c => c.GuardEnabled).HasColumnName(Config.GuardEnabled);
        config.Property(c => c.ContrastTerms).HasColumnName(Config.ContrastTerms);
        config.Property(c => c.ShareAfterAskers).HasColumnName(Config.ShareAfterAskers);
        config.HasIndex(c => c.TenantId).IsUnique().AreNullsDistinct(false).HasDatabaseName(Config.TenantIndex);
        config.HasData(new CacheConfigRow
        {
            Id = 1,
            SimilarityThreshold = DefaultSimilarityThreshold,
            CacheEnabled = true,
            MaxCacheEntries = DefaultMaxCacheEntries,
            UpdatedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            GuardEnabled = true,
            ContrastTerms = [],
            ShareAfterAskers = 1,
        });
    });

    // The embedding column and its HNSW index are the migrations' SQL: their type is a migration-time choice (dimension,
    // precision) and the index is partial, neither of which the model can say. Nothing queries through this model.
    private static void ConfigureEntries(ModelBuilder modelBuilder) => modelBuilder.Entity<CacheEntryRow>(entry =>
    {
        entry.ToTable(Embeddings.Table, t =>
        {
            t.HasCheckConstraint("ck_query_cache_embeddings_tenant", $"{Embeddings.TenantId} <> ''");
            t.HasCheckConstraint("ck_query_cache_embeddings_query_hash", $"octet_length({Embeddings.QueryHash}) = 32");
            t.HasCheckConstraint("ck_query_cache_embeddings_model", $"{Embeddings.EmbeddingModel} <> ''");
            t.HasCheckConstraint("ck_query_cache_embeddings_sharing", $"{Embeddings.Sharing} IN ('pending', 'corroborated', 'approved')");
            // A pending entry answers only the user who asked.
            t.HasCheckConstraint("ck_query_cache_embeddings_pending_private",
                $"{Embeddings.Sharing} IS DISTINCT FROM 'pending' OR {Embeddings.UserId} = {Embeddings.AskedBy}");
        });
        // The tenant leads every unique key, so the table can be distributed by tenant (docs/scaling-out.md).
        entry.HasKey(e => new { e.TenantId, e.Id });
        entry.Property(e => e.Id).HasColumnName(Embeddings.Id).UseIdentityAlwaysColumn();
        entry.Property(e => e.TenantId).HasColumnName(Embeddings.TenantId);
        entry.Property(e => e.UserId).HasColumnName(Embeddings.UserId);
        entry.Property(e => e.AskedBy).HasColumnName(Embeddings.AskedBy);
        entry.Property(e => e.UserMessageId).HasColumnName(Embeddings.UserMessageId);
        entry.Property(e => e.AssistantMessageId).HasColumnName(Embeddings.AssistantMessageId);
        entry.Property(e => e.QueryText).HasColumnName(Embeddings.QueryText);
        entry.Property(e => e.QueryHash).HasColumnName(Embeddings.QueryHash);
        entry.Property(e => e.Answer).HasColumnName(Embeddings.Answer);
        entry.Property(e => e.EmbeddingModel).HasColumnName(Embeddings.EmbeddingModel);
        entry.Property(e => e.CreatedAt).HasColumnName(Embeddings.CreatedAt).HasDefaultValueSql("now()");
        entry.Property(e => e.ExpiresAt).HasColumnName(Embeddings.ExpiresAt);
        entry.Property(e => e.Indexed).HasColumnName(Embeddings.Indexed).HasDefaultValue(true);
        entry.Property(e => e.Sharing).HasColumnName(Embeddings.Sharing);
        entry.Property(e => e.SharedAt).HasColumnName(Embeddings.SharedAt);

        entry.HasIndex(e => new { e.TenantId, e.UserMessageId, e.EmbeddingModel }).IsUnique().HasDatabaseName("ux_query_cache_embeddings_user_message");
        entry.HasIndex(e => new { e.TenantId, e.EmbeddingModel, e.QueryHash }).HasDatabaseName(Embeddings.ScopeIndex);
        entry.HasIndex(e => new { e.TenantId, e.EmbeddingModel }).HasDatabaseName(Embeddings.PendingIndex)
            .HasFilter($"NOT {Embeddings.Indexed}");
        entry.HasIndex(e => e.UserMessageId).HasDatabaseName("ix_query_cache_embeddings_user_message_id");
        entry.HasIndex(e => e.AssistantMessageId).HasDatabaseName("ix_query_cache_embeddings_assistant_message");
        entry.HasIndex(e => new { e.TenantId, e.UserId }).HasDatabaseName("ix_query_cache_embeddings_tenant_user");
        entry.HasIndex(e => new { e.TenantId, e.AskedBy }).HasDatabaseName("ix_query_cache_embeddings_tenant_asked_by")
            .HasFilter($"{Embeddings.AskedBy} IS NOT NULL");
        entry.HasIndex(e => new { e.TenantId, e.EmbeddingModel }, Embeddings.SharingPendingIndex)
            .HasFilter($"{Embeddings.Sharing} = 'pending'");
        entry.HasIndex(e => e.TenantId, "ix_query_cache_embeddings_tenant_sharing").HasFilter($"{Embeddings.Sharing} IS NOT NULL");
        entry.HasIndex(e => e.ExpiresAt).HasDatabaseName("ix_query_cache_embeddings_expires_at")
            .HasFilter($"{Embeddings.ExpiresAt} IS NOT NULL");
    });

    private static void ConfigureHits(ModelBuilder modelBuilder) => modelBuilder.Entity<CacheHitRow>(hit =>
    {
        hit.ToTable(Hits.Table, t => t.HasCheckConstraint("ck_query_cache_hits_count", $"{Hits.HitCount} >= 1"));
        hit.HasKey(h => new { h.TenantId, h.EntryId });
        hit.Property(h => h.TenantId).HasColumnName(Hits.TenantId);
        hit.Property(h => h.EntryId).HasColumnName(Hits.EntryId).ValueGeneratedNever();
        hit.Property(h => h.HitCount).HasColumnName(Hits.HitCount);
        hit.Property(h => h.LastHitAt).HasColumnName(Hits.LastHitAt);
        hit.HasOne<CacheEntryRow>().WithOne().HasForeignKey<CacheHitRow>(h => new { h.TenantId, h.EntryId })
            .HasPrincipalKey<CacheEntryRow>(e => new { e.TenantId, e.Id }).OnDelete(DeleteBehavior.Cascade)
            .HasConstraintName("fk_query_cache_hits_entry");
    });

    private static void ConfigureTenantSizes(ModelBuilder modelBuilder) => modelBuilder.Entity<TenantSizeRow>(size =>
    {
        size.ToTable(TenantSizes.Table, t => t.HasCheckConstraint("ck_query_cache_tenant_sizes_entries", $"{TenantSizes.Entries} >= 0"));
        size.HasKey(s => new { s.TenantId, s.EmbeddingModel });
        size.Property(s => s.TenantId).HasColumnName(TenantSizes.TenantId);
        size.Property(s => s.EmbeddingModel).HasColumnName(TenantSizes.EmbeddingModel);
        size.Property(s => s.Entries).HasColumnName(TenantSizes.Entries);
    });

    private static void ConfigureTextEmbeddings(ModelBuilder modelBuilder) => modelBuilder.Entity<TextEmbeddingRow>(row =>
    {
        row.ToTable(TextEmbeddings.Table);
        row.HasKey(r => new { r.Model, r.TextHash });
        row.Property(r => r.Model).HasColumnName(TextEmbeddings.Model);
        row.Property(r => r.TextHash).HasColumnName(TextEmbeddings.TextHash);
        // No dimension: each model has its own, and pgvector stores any up to 16,000 in one column.
        row.Property(r => r.Embedding).HasColumnName(TextEmbeddings.Embedding).HasColumnType("vector");
        row.Property(r => r.ExpiresAt).HasColumnName(TextEmbeddings.ExpiresAt);
        row.HasIndex(r => r.ExpiresAt).HasDatabaseName(TextEmbeddings.ExpiryIndex);
    });

    private static void ConfigureJobState(ModelBuilder modelBuilder) => modelBuilder.Entity<JobStateRow>(job =>
    {
        job.ToTable(JobState.Table, t =>
        {
            t.HasCheckConstraint("ck_query_cache_job_state_status", $"{JobState.Status} IN ('running', 'completed', 'interrupted', 'failed')");
            t.HasCheckConstraint("ck_query_cache_job_state_counts",
                $"{JobState.Processed} >= 0 AND {JobState.Added} >= 0 AND {JobState.AlreadyCached} >= 0 AND {JobState.Skipped} >= 0 AND {JobState.Failed} >= 0");
        });
        job.HasKey(j => j.Job);
        job.Property(j => j.Job).HasColumnName(JobState.Job);
        job.Property(j => j.Status).HasColumnName(JobState.Status);
        job.Property(j => j.TenantFilter).HasColumnName(JobState.TenantFilter);
        job.Property(j => j.SinceFilter).HasColumnName(JobState.SinceFilter);
        job.Property(j => j.UntilFilter).HasColumnName(JobState.UntilFilter);
        job.Property(j => j.CursorAskedAt).HasColumnName(JobState.CursorAskedAt);
        job.Property(j => j.CursorUserMessageId).HasColumnName(JobState.CursorUserMessageId);
        job.Property(j => j.Total).HasColumnName(JobState.Total);
        job.Property(j => j.Processed).HasColumnName(JobState.Processed);
        job.Property(j => j.Added).HasColumnName(JobState.Added);
        job.Property(j => j.AlreadyCached).HasColumnName(JobState.AlreadyCached);
        job.Property(j => j.Skipped).HasColumnName(JobState.Skipped);
        job.Property(j => j.Failed).HasColumnName(JobState.Failed);
        job.Property(j => j.StartedAt).HasColumnName(JobState.StartedAt);
        job.Property(j => j.UpdatedAt).HasColumnName(JobState.UpdatedAt);
        job.Property(j => j.FinishedAt).HasColumnName(JobState.FinishedAt);
        job.Property(j => j.Error).HasColumnName(JobState.Error);
    });

    private static void ConfigureErasures(ModelBuilder modelBuilder) => modelBuilder.Entity<ErasureRow>(erasure =>
    {
        erasure.ToTable(Erasures.Table);
        erasure.HasKey(e => new { e.TenantId, e.UserId });
        erasure.Property(e => e.TenantId).HasColumnName(Erasures.TenantId);
        erasure.Property(e => e.UserId).HasColumnName(Erasures.UserId);
        erasure.Property(e => e.ErasedAt).HasColumnName(Erasures.ErasedAt).HasDefaultValueSql("now()");
    });
}
