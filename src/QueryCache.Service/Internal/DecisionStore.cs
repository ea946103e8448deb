using Dapper;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <summary>
/// The learned decisions: fitted from the labels in PostgreSQL (a tenant's own once it has enough, and a global one
/// from every label of the model), kept in <see cref="QueryCacheSchema.Decisions"/>, and read back for lookups — each
/// tenant's at most every <see cref="RefreshInterval"/>, so a refit on any instance is in force everywhere within it.
/// </summary>
internal sealed class DecisionStore(CacheDataSource database, CacheAdministration administration, IOptions<QueryCacheOptions> options,
    ILogger<DecisionStore> logger) : IDisposable
{
    /// <summary>The most recent labels a fit reads: enough to learn a dozen weights, and a bound on its memory.</summary>
    public const int MaxLabelsPerFit = 50_000;

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    private const int MaxTenantsKept = 10_000;

    private readonly QueryCacheOptions _options = options.Value;
    /// <summary>The tenants' decisions as last read, at most <see cref="MaxTenantsKept"/> of them: memory stays bounded however many tenants ask.</summary>
    private readonly MemoryCache _byTenant = new(new MemoryCacheOptions { SizeLimit = MaxTenantsKept });

    /// <summary>The decision in force for a tenant and where it comes from.</summary>
    public sealed record InForce(LearnedDecision Decision, string? FittedFor, double MaxFalseHitRate, DateTimeOffset FittedAt);

    /// <summary>
    /// The learned decision lookups of <paramref name="tenantId"/> use: null when <see cref="QueryCacheOptions.MaxFalseHitRate"/>
    /// is not set, nothing has been fitted, or the fits cannot be read (then the threshold and guard decide).
    /// </summary>
    public async ValueTask<InForce?> ForTenantAsync(string tenantId, CancellationToken cancellationToken)
    {
        if (_options.MaxFalseHitRate is null)
        {
            return null;
        }

        var decision = _byTenant.GetOrCreate(tenantId, entry =>
        {
            entry.Size = 1;
            entry.AbsoluteExpirationRelativeToNow = RefreshInterval;
            return LoadAsync(tenantId);
        })!;
        return await decision.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What decides for a tenant (or, with null, for tenants without a fit of their own), and the labels behind it.</summary>
    public async Task<CacheDecision> DescribeAsync(string? tenantId, CancellationToken cancellationToken)
    {
        var row = await ReadFitInForceAsync(tenantId, cancellationToken).ConfigureAwait(false);
        return row is null
            ? new CacheDecision { Mode = CacheDecision.ThresholdAndGuard, MaxFalseHitRate = _options.MaxFalseHitRate }
            : new CacheDecision
            {
                Mode = _options.MaxFalseHitRate is null ? CacheDecision.ThresholdAndGuard : CacheDecision.Learned,
                FittedFor = row.TenantId,
                Labels = row.LabelCount,
                RightLabels = row.RightCount,
                MaxFalseHitRate = row.MaxFalseHitRate,
                ExpectedFalseHitRate = row.ExpectedFalseHitRate,
                Cutoff = double.IsPositiveInfinity(row.Cutoff) ? null : row.Cutoff,
                FittedAt = row.FittedAt,
            };
    }

    /// <summary>
    /// Fits the decision of a tenant (or the global one, from every label of the model) at
    /// <see cref="QueryCacheOptions.MaxFalseHitRate"/> (1 % when it is not set) and puts it in force; with too few labels
    /// any earlier fit of that scope is removed, and the threshold and guard decide there.
    /// </summary>
    public async Task<CacheDecision> FitAsync(string? tenantId, CancellationToken cancellationToken)
    {
        var rate = _options.MaxFalseHitRate ?? 0.01;
        using var connection = database.Primary.CreateConnection();
        var rows = (await connection.QueryAsync<LabelToFit>(new CommandDefinition(CacheStatements.LabelsToFit,
            new { Model = _options.EmbeddingModel, TenantId = tenantId, Limit = MaxLabelsPerFit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var terms = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var labels = new List<LabelledCandidate>(rows.Count);
        foreach (var row in rows)
        {
            var tenantTerms = await TermsAsync(row.TenantId ?? "", terms, cancellationToken).ConfigureAwait(false);
            var asked = QuestionText.Parse(row.Question);
            var cached = QuestionText.Parse(row.CachedQuestion);
            var signals = LexicalGuard.Signals(asked, cached, tenantTerms);
            labels.Add(new LabelledCandidate(DecisionFeatures.Of(asked, cached, row.Similarity, signals), LexicalGuard.FirstReason(signals) is null, row.IsRight));
        }

        var decision = LearnedDecision.Fit(labels, rate);
        if (decision is null)
        {
            await connection.ExecuteAsync(new CommandDefinition(CacheStatements.DeleteDecision,
                new { TenantId = tenantId, Model = _options.EmbeddingModel }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition(CacheStatements.SaveDecision, new
            {
                TenantId = tenantId,
                Model = _options.EmbeddingModel,
                MaxFalseHitRate = rate,
                decision.Model.Means,
                decision.Model.Scales,
                decision.Model.Weights,
                decision.Model.Bias,
                decision.Cutoff,
                LabelCount = decision.Labels,
                RightCount = decision.Positives,
                decision.ExpectedFalseHitRate,
            }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            Log.DecisionFitted(logger, tenantId ?? "all tenants", decision.Labels, decision.Positives, decision.Cutoff, decision.ExpectedFalseHitRate);
        }

        _byTenant.Clear();
        var described = await DescribeAsync(tenantId, cancellationToken).ConfigureAwait(false);
        return described with { Labels = decision?.Labels ?? rows.Count, RightLabels = decision?.Positives ?? rows.Count(r => r.IsRight) };
    }

    /// <summary>Refits every scope (the global one, and each tenant with labels) whose labels are newer than its fit.</summary>
    public async Task<int> RefitStaleAsync(CancellationToken cancellationToken)
    {
        IEnumerable<string?> scopes;
        using (var connection = database.Primary.CreateConnection())
        {
            scopes = await connection.QueryAsync<string?>(new CommandDefinition(CacheStatements.StaleDecisionScopes,
                new { Model = _options.EmbeddingModel }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        var count = 0;
        foreach (var scope in scopes)
        {
            await FitAsync(scope, cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    private async Task<InForce?> LoadAsync(string tenantId)
    {
        try
        {
            var row = await ReadFitInForceAsync(tenantId, CancellationToken.None).ConfigureAwait(false);
            return row is null ? null : new InForce(
                new LearnedDecision(new LogisticModel(row.Means, row.Scales, row.Weights, row.Bias), row.Cutoff, row.LabelCount, row.RightCount,
                    row.ExpectedFalseHitRate),
                row.TenantId, row.MaxFalseHitRate, row.FittedAt);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DecisionUnavailable(logger, ex, tenantId);
            _byTenant.Remove(tenantId);
            return null;
        }
    }

    /// <summary>The tenant's own fit, else the global one, else null.</summary>
    private async Task<FitRow?> ReadFitInForceAsync(string? tenantId, CancellationToken cancellationToken)
    {
        using var connection = database.Primary.CreateConnection();
        var rows = (await connection.QueryAsync<FitRow>(new CommandDefinition(CacheStatements.LoadDecisions,
            new { Model = _options.EmbeddingModel, TenantId = tenantId }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        return rows.FirstOrDefault(r => r.TenantId == tenantId) ?? rows.FirstOrDefault(r => r.TenantId is null);
    }

    private async Task<IReadOnlyList<string>> TermsAsync(string tenantId, Dictionary<string, IReadOnlyList<string>> known, CancellationToken cancellationToken)
    {
        if (!known.TryGetValue(tenantId, out var terms))
        {
            terms = (await administration.GetConfigAsync(tenantId.Length == 0 ? null : tenantId, cancellationToken).ConfigureAwait(false)).ContrastTerms;
            known[tenantId] = terms;
        }

        return terms;
    }

    private sealed record LabelToFit(string? TenantId, string Question, string CachedQuestion, double Similarity, bool IsRight);

    private sealed record FitRow
    {
        public string? TenantId { get; init; }
        public double MaxFalseHitRate { get; init; }
        public double[] Means { get; init; } = [];
        public double[] Scales { get; init; } = [];
        public double[] Weights { get; init; } = [];
        public double Bias { get; init; }
        public double Cutoff { get; init; }
        public int LabelCount { get; init; }
        public int RightCount { get; init; }
        public double ExpectedFalseHitRate { get; init; }
        public DateTimeOffset FittedAt { get; init; }
    }

    public void Dispose() => _byTenant.Dispose();
}
