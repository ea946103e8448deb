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
    public const string Candidates = CandidateColumns + $"FROM {Schema}.{F.Candidates}(@Embedding, @TenantId, @UserId, @Model, @Hash, @K)";

    /// <summary>
    /// After a store by user @UserId in a tenant that shares after several askers: the @K nearest entries other users
    /// stored that wait for corroboration, in the same shape as <see cref="Candidates"/>.
    /// </summary>
    public const string PendingCandidates = CandidateColumns + $"FROM {Schema}.{F.PendingCandidates}(@Embedding, @TenantId, @UserId, @Model, @Hash, @K)";

    /// <summary>Counts @UserId as an asker of a pending entry; true when the entry now answers the whole tenant.</summary>
    public const string Corroborate = ForTenant + $"SELECT {Schema}.{F.Corroborate}(@TenantId, @EntryId, @UserId)";

    private const string CandidateColumns = $"""
        SELECT {F.EntryIdColumn} AS "EntryId", {E.QueryText} AS "QueryText", {E.Answer} AS "Answer", {F.SimilarityColumn} AS "Similarity",
               {E.UserMessageId} AS "UserMessageId", {E.AssistantMessageId} AS "AssistantMessageId",
               {C.SimilarityThreshold} AS "Threshold", {C.CacheEnabled} AS "Enabled", {C.GuardEnabled} AS "GuardEnabled",
               {C.ContrastTerms} AS "ContrastTerms"

        """;

    /// <summary>The entry whose normalized question has this hash, and its expiry; its hit is recorded by the hit recorder, not here.</summary>
    public const string LookupExact =
        $"""SELECT {HitColumns}, {E.ExpiresAt} AS "ExpiresAt" FROM {Schema}.{F.LookupExact}(@Hash, @TenantId, @UserId, @Model, false)""";
}
