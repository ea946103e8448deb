using Microsoft.EntityFrameworkCore;
using static QueryCache.QueryCacheSchema;

namespace QueryCache.Data;

/// <content>The tables behind the learned decision: labels, fits, withdrawn entries.</content>
public sealed partial class QueryCacheDbContext
{
    private static void ConfigureLabels(ModelBuilder modelBuilder) => modelBuilder.Entity<LabelRow>(label =>
    {
        label.ToTable(Labels.Table, t =>
        {
            t.HasCheckConstraint("ck_query_cache_labels_similarity", $"{Labels.Similarity} BETWEEN -1 AND 1");
            t.HasCheckConstraint("ck_query_cache_labels_source", $"{Labels.Source} IN ('pairs', 'verifier', 'feedback', 'audit')");
            t.HasCheckConstraint("ck_query_cache_labels_tenant", $"{Labels.TenantId} <> ''");
            t.HasCheckConstraint("ck_query_cache_labels_texts", $"{Labels.Question} <> '' AND {Labels.CachedQuestion} <> ''");
        });
        label.HasKey(l => l.Id);
        label.Property(l => l.Id).HasColumnName(Labels.Id).UseIdentityAlwaysColumn();
        label.Property(l => l.TenantId).HasColumnName(Labels.TenantId);
        label.Property(l => l.UserId).HasColumnName(Labels.UserId);
        label.Property(l => l.EmbeddingModel).HasColumnName(Labels.EmbeddingModel);
        label.Property(l => l.Question).HasColumnName(Labels.Question);
        label.Property(l => l.CachedQuestion).HasColumnName(Labels.CachedQuestion);
        label.Property(l => l.Similarity).HasColumnName(Labels.Similarity);
        label.Property(l => l.IsRight).HasColumnName(Labels.IsRight);
        label.Property(l => l.Source).HasColumnName(Labels.Source);
        label.Property(l => l.EntryId).HasColumnName(Labels.EntryId);
        label.Property(l => l.CreatedAt).HasColumnName(Labels.CreatedAt).HasDefaultValueSql("now()");
        label.HasIndex(l => new { l.EmbeddingModel, l.TenantId, l.Id }).HasDatabaseName(Labels.ScopeIndex);
        label.HasIndex(l => new { l.TenantId, l.UserId }).HasDatabaseName("ix_query_cache_labels_tenant_user")
            .HasFilter($"{Labels.UserId} IS NOT NULL");
    });

    private static void ConfigureDecisions(ModelBuilder modelBuilder) => modelBuilder.Entity<DecisionRow>(decision =>
    {
        decision.ToTable(Decisions.Table, t =>
        {
            t.HasCheckConstraint("ck_query_cache_decisions_rate", $"{Decisions.MaxFalseHitRate} > 0 AND {Decisions.MaxFalseHitRate} < 1");
            t.HasCheckConstraint("ck_query_cache_decisions_counts", $"{Decisions.RightCount} BETWEEN 0 AND {Decisions.LabelCount}");
        });
        decision.HasKey(d => d.Id);
        decision.Property(d => d.Id).HasColumnName(Decisions.Id).UseIdentityAlwaysColumn();
        decision.Property(d => d.TenantId).HasColumnName(Decisions.TenantId);
        decision.Property(d => d.EmbeddingModel).HasColumnName(Decisions.EmbeddingModel);
        decision.Property(d => d.MaxFalseHitRate).HasColumnName(Decisions.MaxFalseHitRate);
        decision.Property(d => d.Means).HasColumnName(Decisions.Means);
        decision.Property(d => d.Scales).HasColumnName(Decisions.Scales);
        decision.Property(d => d.Weights).HasColumnName(Decisions.Weights);
        decision.Property(d => d.Bias).HasColumnName(Decisions.Bias);
        decision.Property(d => d.Cutoff).HasColumnName(Decisions.Cutoff);
        decision.Property(d => d.LabelCount).HasColumnName(Decisions.LabelCount);
        decision.Property(d => d.RightCount).HasColumnName(Decisions.RightCount);
        decision.Property(d => d.ExpectedFalseHitRate).HasColumnName(Decisions.ExpectedFalseHitRate);
        decision.Property(d => d.FittedAt).HasColumnName(Decisions.FittedAt).HasDefaultValueSql("now()");
        decision.HasIndex(d => new { d.TenantId, d.EmbeddingModel }).IsUnique().AreNullsDistinct(false).HasDatabaseName(Decisions.ScopeIndex);
    });

    private static void ConfigureWithdrawn(ModelBuilder modelBuilder) => modelBuilder.Entity<WithdrawnRow>(withdrawn =>
    {
        withdrawn.ToTable(Withdrawn.Table);
        withdrawn.HasKey(w => new { w.TenantId, w.QueryHash, w.EntryId });
        withdrawn.Property(w => w.TenantId).HasColumnName(Withdrawn.TenantId);
        withdrawn.Property(w => w.QueryHash).HasColumnName(Withdrawn.QueryHash);
        withdrawn.Property(w => w.EntryId).HasColumnName(Withdrawn.EntryId);
        withdrawn.Property(w => w.CreatedAt).HasColumnName(Withdrawn.CreatedAt).HasDefaultValueSql("now()");
        withdrawn.HasOne<CacheEntryRow>().WithMany().HasForeignKey(w => new { w.TenantId, w.EntryId })
            .HasPrincipalKey(e => new { e.TenantId, e.Id }).OnDelete(DeleteBehavior.Cascade)
            .HasConstraintName("fk_query_cache_withdrawn_entry");
    });

    private static void ConfigureAskers(ModelBuilder modelBuilder) => modelBuilder.Entity<AskerRow>(asker =>
    {
        asker.ToTable(Askers.Table, t => t.HasCheckConstraint("ck_query_cache_askers_user", $"{Askers.UserId} <> ''"));
        asker.HasKey(a => new { a.TenantId, a.EntryId, a.UserId });
        asker.Property(a => a.TenantId).HasColumnName(Askers.TenantId);
        asker.Property(a => a.EntryId).HasColumnName(Askers.EntryId);
        asker.Property(a => a.UserId).HasColumnName(Askers.UserId);
        asker.Property(a => a.AskedAt).HasColumnName(Askers.AskedAt).HasDefaultValueSql("now()");
        asker.HasIndex(a => new { a.TenantId, a.UserId }).HasDatabaseName("ix_query_cache_askers_tenant_user");
        asker.HasOne<CacheEntryRow>().WithMany().HasForeignKey(a => new { a.TenantId, a.EntryId })
            .HasPrincipalKey(e => new { e.TenantId, e.Id }).OnDelete(DeleteBehavior.Cascade)
            .HasConstraintName("fk_query_cache_askers_entry");
    });
}
