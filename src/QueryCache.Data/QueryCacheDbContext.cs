using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using static QueryCache.Data.QueryCacheSchema;

namespace QueryCache.Data;

/// <summary>
/// The EF Core model of the query cache schema. EF Core owns the schema (migrations); the service's hot path
/// uses Dapper and never goes through this context.
/// </summary>
public sealed class QueryCacheDbContext(DbContextOptions<QueryCacheDbContext> options) : DbContext(options)
{
    public const string MigrationsAssemblyName = "QueryCache.Migrations";

    public DbSet<CacheConfigRow> Config => Set<CacheConfigRow>();
    public DbSet<CacheEntryRow> Entries => Set<CacheEntryRow>();
    public DbSet<JobStateRow> JobState => Set<JobStateRow>();
    public DbSet<ErasureRow> Erasures => Set<ErasureRow>();

    /// <summary>The embedding dimension of this database's <c>vector(N)</c> column.</summary>
    public int Dimensions => QueryCacheOptionsExtension.DimensionsOf(options);

    /// <summary>
    /// Configures <paramref name="builder"/> for the query cache: Npgsql with pgvector, the cache's own migrations
    /// history table, and the embedding dimension the migrations create the <c>vector</c> column with.
    /// </summary>
    /// <param name="builder">The options builder to configure.</param>
    /// <param name="connectionString">The application database's connection string.</param>
    /// <param name="dimensions">Embedding dimension, 1 to 2000 (pgvector's HNSW limit). Must match the embedding model.</param>
    public static DbContextOptionsBuilder<QueryCacheDbContext> Configure(
        DbContextOptionsBuilder<QueryCacheDbContext> builder, string connectionString, int dimensions = DefaultDimensions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (dimensions is < 1 or > MaxIndexedDimensions)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions,
                $"The embedding dimension must be between 1 and {MaxIndexedDimensions} (pgvector's HNSW limit); use your embedding model's output size, for example 1536.");
        }

        builder.UseNpgsql(connectionString, npgsql => npgsql
                .UseVector()
                .MigrationsAssembly(MigrationsAssemblyName)
                .MigrationsHistoryTable(MigrationsHistoryTable, Schema))
            .ReplaceService<IModelCacheKeyFactory, DimensionsModelCacheKeyFactory>()
            .ReplaceService<IMigrationsAssembly, DimensionsMigrationsAssembly>();
        ((IDbContextOptionsBuilderInfrastructure)builder).AddOrUpdateExtension(new QueryCacheOptionsExtension(dimensions));
        if (dimensions != DefaultDimensions)
        {
            // The model snapshot records vector(1536); another dimension is a deliberate, supported difference.
            builder.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
        }

        return builder;
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.HasPostgresExtension("vector");

        modelBuilder.Entity<CacheConfigRow>(config =>
        {
            config.ToTable(ConfigTable, t =>
            {
                t.HasCheckConstraint("ck_query_cache_config_threshold", "similarity_threshold BETWEEN 0 AND 1");
                t.HasCheckConstraint("ck_query_cache_config_max_entries", "max_cache_entries >= 1");
                t.HasCheckConstraint("ck_query_cache_config_ttl", "default_ttl > interval '0'");
                t.HasCheckConstraint("ck_query_cache_config_tenant", "tenant_id <> ''");
                t.HasCheckConstraint("ck_query_cache_config_global_complete",
                    "tenant_id IS NOT NULL OR (similarity_threshold IS NOT NULL AND cache_enabled IS NOT NULL AND max_cache_entries IS NOT NULL)");
            });
            config.HasKey(c => c.Id);
            // The seeded global row is id 1; generated ids start after it.
            config.Property(c => c.Id).HasColumnName("id").UseIdentityByDefaultColumn().HasIdentityOptions(startValue: 2);
            config.Property(c => c.TenantId).HasColumnName("tenant_id");
            config.Property(c => c.SimilarityThreshold).HasColumnName("similarity_threshold");
            config.Property(c => c.CacheEnabled).HasColumnName("cache_enabled");
            config.Property(c => c.MaxCacheEntries).HasColumnName("max_cache_entries");
            config.Property(c => c.DefaultTimeToLive).HasColumnName("default_ttl");
            config.Property(c => c.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");
            // One global row (tenant_id NULL) and at most one row per tenant.
            config.HasIndex(c => c.TenantId).IsUnique().AreNullsDistinct(false).HasDatabaseName("ux_query_cache_config_tenant");
            config.HasData(new CacheConfigRow
            {
                Id = 1,
                SimilarityThreshold = DefaultSimilarityThreshold,
                CacheEnabled = true,
                MaxCacheEntries = DefaultMaxCacheEntries,
                UpdatedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            });
        });

        modelBuilder.Entity<CacheEntryRow>(entry =>
        {
            entry.ToTable(EmbeddingsTable, t =>
            {
                t.HasCheckConstraint("ck_query_cache_embeddings_tenant", "tenant_id <> ''");
                t.HasCheckConstraint("ck_query_cache_embeddings_query_hash", "octet_length(query_hash) = 32");
                t.HasCheckConstraint("ck_query_cache_embeddings_model", "embedding_model <> ''");
            });
            // Recording a hit must stay a HOT update (no new index entries), which needs room for the new row version on
            // the same page. Vectors under ~2 KB (< ~500 dimensions) are not TOASTed, so a version can be that big:
            // 30% free space both leaves room and makes reads prune dead versions before the page runs out.
            entry.HasStorageParameter("fillfactor", 70);
            entry.HasKey(e => e.Id);
            entry.Property(e => e.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            entry.Property(e => e.TenantId).HasColumnName("tenant_id");
            entry.Property(e => e.UserId).HasColumnName("user_id");
            entry.Property(e => e.AskedBy).HasColumnName("asked_by");
            entry.Property(e => e.UserMessageId).HasColumnName("user_message_id");
            entry.Property(e => e.AssistantMessageId).HasColumnName("assistant_message_id");
            entry.Property(e => e.QueryText).HasColumnName("query_text");
            entry.Property(e => e.QueryHash).HasColumnName("query_hash");
            entry.Property(e => e.Answer).HasColumnName("answer");
            entry.Property(e => e.Embedding).HasColumnName("embedding").HasColumnType($"vector({Dimensions})");
            entry.Property(e => e.EmbeddingModel).HasColumnName("embedding_model");
            entry.Property(e => e.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
            entry.Property(e => e.ExpiresAt).HasColumnName("expires_at");
            entry.Property(e => e.HitCount).HasColumnName("hit_count").HasDefaultValue(0L);
            entry.Property(e => e.LastHitAt).HasColumnName("last_hit_at");

            entry.HasIndex(e => new { e.UserMessageId, e.EmbeddingModel }).IsUnique()
                .HasDatabaseName("ux_query_cache_embeddings_user_message");
            entry.HasIndex(e => new { e.TenantId, e.QueryHash }).HasDatabaseName("ix_query_cache_embeddings_tenant_hash");
            entry.HasIndex(e => e.AssistantMessageId).HasDatabaseName("ix_query_cache_embeddings_assistant_message");
            entry.HasIndex(e => new { e.TenantId, e.UserId }).HasDatabaseName("ix_query_cache_embeddings_tenant_user");
            entry.HasIndex(e => new { e.TenantId, e.AskedBy }).HasDatabaseName("ix_query_cache_embeddings_tenant_asked_by")
                .HasFilter("asked_by IS NOT NULL");
            entry.HasIndex(e => e.ExpiresAt).HasDatabaseName("ix_query_cache_embeddings_expires_at")
                .HasFilter("expires_at IS NOT NULL");
            entry.HasIndex(e => e.Embedding).HasDatabaseName(EmbeddingIndex)
                .HasMethod("hnsw")
                .HasOperators("vector_cosine_ops")
                .HasStorageParameter("m", HnswM)
                .HasStorageParameter("ef_construction", HnswEfConstruction);
        });

        modelBuilder.Entity<JobStateRow>(job =>
        {
            job.ToTable(JobStateTable, t =>
            {
                t.HasCheckConstraint("ck_query_cache_job_state_status", "status IN ('running', 'completed', 'interrupted', 'failed')");
                t.HasCheckConstraint("ck_query_cache_job_state_counts", "processed >= 0 AND added >= 0 AND already_cached >= 0 AND skipped >= 0 AND failed >= 0");
            });
            job.HasKey(j => j.Job);
            job.Property(j => j.Job).HasColumnName("job");
            job.Property(j => j.Status).HasColumnName("status");
            job.Property(j => j.TenantFilter).HasColumnName("tenant_filter");
            job.Property(j => j.SinceFilter).HasColumnName("since_filter");
            job.Property(j => j.UntilFilter).HasColumnName("until_filter");
            job.Property(j => j.CursorAskedAt).HasColumnName("cursor_asked_at");
            job.Property(j => j.CursorUserMessageId).HasColumnName("cursor_user_message_id");
            job.Property(j => j.Total).HasColumnName("total");
            job.Property(j => j.Processed).HasColumnName("processed");
            job.Property(j => j.Added).HasColumnName("added");
            job.Property(j => j.AlreadyCached).HasColumnName("already_cached");
            job.Property(j => j.Skipped).HasColumnName("skipped");
            job.Property(j => j.Failed).HasColumnName("failed");
            job.Property(j => j.StartedAt).HasColumnName("started_at");
            job.Property(j => j.UpdatedAt).HasColumnName("updated_at");
            job.Property(j => j.FinishedAt).HasColumnName("finished_at");
            job.Property(j => j.Error).HasColumnName("error");
        });

        modelBuilder.Entity<ErasureRow>(erasure =>
        {
            erasure.ToTable(ErasuresTable);
            erasure.HasKey(e => new { e.TenantId, e.UserId });
            erasure.Property(e => e.TenantId).HasColumnName("tenant_id");
            erasure.Property(e => e.UserId).HasColumnName("user_id");
            erasure.Property(e => e.ErasedAt).HasColumnName("erased_at").HasDefaultValueSql("now()");
        });
    }
}
