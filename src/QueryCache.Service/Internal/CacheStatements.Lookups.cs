using C = QueryCache.QueryCacheSchema.Config;
using E = QueryCache.QueryCacheSchema.Embeddings;
using F = QueryCache.QueryCacheSchema.Functions;

namespace QueryCache.Internal;

/// <content>The lookup's statements.</content>
internal static partial class CacheStatements
{
    /// <summary>
    /// The @K nearest live entries of the scope, without those withdrawn for the question hash @Hash (null columns when
    /// there is none), each with the tenant's settings in force.
    /// </summary>
    public const string Candidates = $"""
        SELECT {F.EntryIdColumn} AS "EntryId", {E.QueryText} AS "QueryText", {E.Answer} AS "Answer", {F.SimilarityColumn} AS "Similarity",
               {E.UserMessageId} AS "UserMessageId", {E.AssistantMessageId} AS "AssistantMessageId",
               {C.SimilarityThreshold} AS "Threshold", {C.CacheEnabled} AS "Enabled", {C.GuardEnabled} AS "GuardEnabled",
               {C.ContrastTerms} AS "ContrastTerms"
        FROM {Schema}.{F.Candidates}(@Embedding, @TenantId, @UserId, @Model, @Hash, @K)
        """;

    /// <summary>The entry whose normalized question has this hash, and its expiry; its hit is recorded by the hit recorder, not here.</summary>
    public const string LookupExact =
        $"""SELECT {HitColumns}, {E.ExpiresAt} AS "ExpiresAt" FROM {Schema}.{F.LookupExact}(@Hash, @TenantId, @UserId, @Model, false)""";
}
