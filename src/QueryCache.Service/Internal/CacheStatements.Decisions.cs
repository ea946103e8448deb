using D = QueryCache.QueryCacheSchema.Decisions;
using E = QueryCache.QueryCacheSchema.Embeddings;
using L = QueryCache.QueryCacheSchema.Labels;
using W = QueryCache.QueryCacheSchema.Withdrawn;

namespace QueryCache.Internal;

/// <content>The learned decision's statements: labels, fits, withdrawn entries.</content>
internal static partial class CacheStatements
{
    private const string Decisions = Schema + "." + D.Table;
    private const string Withdrawn = Schema + "." + W.Table;

    /// <summary>Labels, one row per element of the arrays.</summary>
    public const string InsertLabels = ForAllTenants + $"""
        INSERT INTO {Labels} ({L.TenantId}, {L.UserId}, {L.EmbeddingModel}, {L.Question}, {L.CachedQuestion}, {L.Similarity}, {L.IsRight}, {L.Source}, {L.EntryId})
        SELECT * FROM unnest(@Tenants, @Users, @Models, @Questions, @CachedQuestions, @Similarities, @Rights, @Sources, @EntryIds)
        """;

    /// <summary>The cached question of an entry of the tenant, and its question hash.</summary>
    public const string EntryQuestion = ForTenant + $"""
        SELECT {E.QueryText} AS "QueryText", {E.QueryHash} AS "QueryHash" FROM {Embeddings} WHERE {E.TenantId} = @TenantId AND {E.Id} = @EntryId
        """;

    /// <summary>Withdraws an entry for one question.</summary>
    public const string Withdraw = ForTenant + $"""
        INSERT INTO {Withdrawn} ({W.TenantId}, {W.QueryHash}, {W.EntryId}) VALUES (@TenantId, @Hash, @EntryId) ON CONFLICT DO NOTHING
        """;

    /// <summary>The newest labels of a model to fit on: the tenant's own (@TenantId), or every label (@TenantId null), at most @Limit.</summary>
    public const string LabelsToFit = ForTenant + $"""
        SELECT {L.TenantId} AS "TenantId", {L.Question} AS "Question", {L.CachedQuestion} AS "CachedQuestion",
               {L.Similarity} AS "Similarity", {L.IsRight} AS "IsRight"
        FROM {Labels}
        WHERE {L.EmbeddingModel} = @Model AND (@TenantId::text IS NULL OR {L.TenantId} = @TenantId)
        ORDER BY {L.Id} DESC
        LIMIT @Limit
        """;

    /// <summary>The tenants (and the global scope, NULL) whose labels are newer than their fit.</summary>
    public const string StaleDecisionScopes = ForAllTenants + $"""
        SELECT DISTINCT s.tenant_id FROM (
            SELECT {L.TenantId} AS tenant_id, max({L.CreatedAt}) AS newest FROM {Labels} WHERE {L.EmbeddingModel} = @Model AND {L.TenantId} IS NOT NULL GROUP BY 1
            UNION ALL
            SELECT NULL, max({L.CreatedAt}) FROM {Labels} WHERE {L.EmbeddingModel} = @Model) s
        WHERE s.newest IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {Decisions} d WHERE d.{D.TenantId} IS NOT DISTINCT FROM s.tenant_id AND d.{D.EmbeddingModel} = @Model AND d.{D.FittedAt} >= s.newest)
        """;

    /// <summary>Replaces the fit of a scope (tenant, or NULL for global) and model.</summary>
    public const string SaveDecision = ForTenant + $"""
        INSERT INTO {Decisions} ({D.TenantId}, {D.EmbeddingModel}, {D.MaxFalseHitRate}, {D.Means}, {D.Scales}, {D.Weights}, {D.Bias}, {D.Cutoff},
                                 {D.LabelCount}, {D.RightCount}, {D.ExpectedFalseHitRate}, {D.FittedAt})
        VALUES (@TenantId, @Model, @MaxFalseHitRate, @Means, @Scales, @Weights, @Bias, @Cutoff, @LabelCount, @RightCount, @ExpectedFalseHitRate, now())
        ON CONFLICT ({D.TenantId}, {D.EmbeddingModel}) DO UPDATE SET
            {D.MaxFalseHitRate} = excluded.{D.MaxFalseHitRate}, {D.Means} = excluded.{D.Means}, {D.Scales} = excluded.{D.Scales},
            {D.Weights} = excluded.{D.Weights}, {D.Bias} = excluded.{D.Bias}, {D.Cutoff} = excluded.{D.Cutoff},
            {D.LabelCount} = excluded.{D.LabelCount}, {D.RightCount} = excluded.{D.RightCount},
            {D.ExpectedFalseHitRate} = excluded.{D.ExpectedFalseHitRate}, {D.FittedAt} = excluded.{D.FittedAt}
        """;

    /// <summary>Removes the fit of a scope (tenant, or NULL for global) and model.</summary>
    public const string DeleteDecision = ForTenant + $"""
        DELETE FROM {Decisions} WHERE {D.TenantId} IS NOT DISTINCT FROM @TenantId AND {D.EmbeddingModel} = @Model
        """;

    /// <summary>The fits of a model for a tenant and the global one.</summary>
    public const string LoadDecisions = ForTenant + $"""
        SELECT {D.TenantId} AS "TenantId", {D.MaxFalseHitRate} AS "MaxFalseHitRate", {D.Means} AS "Means", {D.Scales} AS "Scales",
               {D.Weights} AS "Weights", {D.Bias} AS "Bias", {D.Cutoff} AS "Cutoff", {D.LabelCount} AS "LabelCount",
               {D.RightCount} AS "RightCount", {D.ExpectedFalseHitRate} AS "ExpectedFalseHitRate", {D.FittedAt} AS "FittedAt"
        FROM {Decisions}
        WHERE {D.EmbeddingModel} = @Model AND ({D.TenantId} = @TenantId OR {D.TenantId} IS NULL)
        """;
}
