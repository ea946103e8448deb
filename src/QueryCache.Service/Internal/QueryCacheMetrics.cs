using System.Diagnostics.Metrics;
using System.Text.Json;

namespace QueryCache.Internal;

/// <summary>The instruments of meter <c>QueryCache</c>.</summary>
internal sealed class QueryCacheMetrics
{
    public const string MeterName = QueryCacheService.MeterName;

    private readonly Counter<long> _lookups;
    private readonly Histogram<double> _lookupDuration;
    private readonly Histogram<double> _similarity;
    private readonly Counter<long> _verifications;
    private readonly Counter<long> _stores;
    private readonly Counter<long> _invalidated;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _backfilled;
    private readonly Counter<long> _standbyFallbacks;
    private readonly Counter<long> _localTier;
    private readonly Counter<long> _sharing;

    public QueryCacheMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _lookups = meter.CreateCounter<long>("querycache.lookups", "{lookup}",
            "Cache lookups, tagged querycache.result = hit | miss, querycache.path = exact | vector | memory and, on a miss, querycache.reason.");
        _lookupDuration = meter.CreateHistogram<double>("querycache.lookup.duration", "s", "Duration of cache lookups.");
        _similarity = meter.CreateHistogram<double>("querycache.lookup.similarity", "1",
            "Cosine similarity of the nearest entry at each lookup that found one, tagged querycache.result = hit | miss.");
        _verifications = meter.CreateCounter<long>("querycache.verifications", "{verification}",
            "Grey-zone candidates sent to the verifier, tagged querycache.verdict = accepted | rejected | failed | timeout.");
        _stores = meter.CreateCounter<long>("querycache.stores", "{entry}",
            "Entries stored (querycache.result = stored), refused by the admission policy (refused, with querycache.reason) or dropped on failure (dropped).");
        _invalidated = meter.CreateCounter<long>("querycache.invalidations", "{entry}", "Entries removed by invalidation, tagged querycache.scope.");
        _errors = meter.CreateCounter<long>("querycache.errors", "{error}", "Database failures and timeouts, tagged querycache.operation.");
        _evictions = meter.CreateCounter<long>("querycache.evictions", "{entry}", "Entries deleted by cleanup (expired or over a cap).");
        _backfilled = meter.CreateCounter<long>("querycache.backfill.pairs", "{pair}",
            "Q&A pairs read by the backfill, tagged querycache.result = added | already_cached | skipped | failed.");
        _standbyFallbacks = meter.CreateCounter<long>("querycache.standby.fallbacks", "{read}",
            "Lookup reads the standby did not answer, so the primary did, tagged querycache.reason = failed | timeout | skipped | lagging.");
        _localTier = meter.CreateCounter<long>("querycache.local_tier.evictions", "{event}",
            "Times the in-process tier dropped entries, tagged querycache.reason = invalidated | disconnected.");
        _sharing = meter.CreateCounter<long>("querycache.sharing", "{event}",
            "Corroborated sharing: querycache.result = pending (a shared answer stored to wait for askers) | counted (an asker counted) | corroborated | approved (an entry now answers its tenant).");
    }

    /// <summary>The metric tag value of an enum member: its name in snake_case.</summary>
    public static string TagValue<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public void Lookup(CacheLookupResult result, TimeSpan duration, string path)
    {
        var outcome = new KeyValuePair<string, object?>("querycache.result", result.Hit is null ? "miss" : "hit");
        var pathTag = new KeyValuePair<string, object?>("querycache.path", path);
        if (result.MissReason is { } reason)
        {
            _lookups.Add(1, outcome, pathTag, new KeyValuePair<string, object?>("querycache.reason", TagValue(reason)));
        }
        else
        {
            _lookups.Add(1, outcome, pathTag);
        }

        _lookupDuration.Record(duration.TotalSeconds, outcome, pathTag);
        if (result.NearestSimilarity is { } similarity)
        {
            _similarity.Record(similarity, outcome);
        }
    }

    public void Verified(string verdict) => _verifications.Add(1, new KeyValuePair<string, object?>("querycache.verdict", verdict));

    public void Store(string result, string? reason = null)
    {
        var outcome = new KeyValuePair<string, object?>("querycache.result", result);
        if (reason is null)
        {
            _stores.Add(1, outcome);
        }
        else
        {
            _stores.Add(1, outcome, new KeyValuePair<string, object?>("querycache.reason", reason));
        }
    }

    public void Invalidated(int count, string scope) =>
        _invalidated.Add(count, new KeyValuePair<string, object?>("querycache.scope", scope));

    public void Evicted(long count)
    {
        if (count > 0)
        {
            _evictions.Add(count);
        }
    }

    public void Backfilled(long count, string result)
    {
        if (count > 0)
        {
            _backfilled.Add(count, new KeyValuePair<string, object?>("querycache.result", result));
        }
    }

    public void StandbyFallback(string reason) => _standbyFallbacks.Add(1, new KeyValuePair<string, object?>("querycache.reason", reason));

    public void LocalTierEvicted(string reason) => _localTier.Add(1, new KeyValuePair<string, object?>("querycache.reason", reason));

    public void Sharing(string result) => _sharing.Add(1, new KeyValuePair<string, object?>("querycache.result", result));

    public void Error(CacheOperation operation) =>
        _errors.Add(1, new KeyValuePair<string, object?>("querycache.operation", TagValue(operation)));
}
