using System.Diagnostics.Metrics;

namespace QueryCache.Internal;

/// <summary>The instruments of meter <c>QueryCache</c>.</summary>
internal sealed class QueryCacheMetrics
{
    public const string MeterName = "QueryCache";

    private readonly Counter<long> _lookups;
    private readonly Histogram<double> _lookupDuration;
    private readonly Counter<long> _stores;
    private readonly Counter<long> _invalidated;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _backfilled;

    public QueryCacheMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _lookups = meter.CreateCounter<long>("querycache.lookups", "{lookup}", "Cache lookups, tagged querycache.result = hit | miss.");
        _lookupDuration = meter.CreateHistogram<double>("querycache.lookup.duration", "s", "Duration of cache lookups.");
        _stores = meter.CreateCounter<long>("querycache.stores", "{entry}", "Entries stored (querycache.result = stored) or dropped on failure (dropped).");
        _invalidated = meter.CreateCounter<long>("querycache.invalidations", "{entry}", "Entries removed by invalidation, tagged querycache.scope.");
        _errors = meter.CreateCounter<long>("querycache.errors", "{error}", "Database failures and timeouts, tagged querycache.operation.");
        _evictions = meter.CreateCounter<long>("querycache.evictions", "{entry}", "Entries deleted by cleanup (expired or over a cap).");
        _backfilled = meter.CreateCounter<long>("querycache.backfill.pairs", "{pair}",
            "Q&A pairs read by the backfill, tagged querycache.result = added | already_cached | skipped | failed.");
    }

    public void Lookup(bool hit, TimeSpan duration, string path)
    {
        var result = new KeyValuePair<string, object?>("querycache.result", hit ? "hit" : "miss");
        var pathTag = new KeyValuePair<string, object?>("querycache.path", path);
        _lookups.Add(1, result, pathTag);
        _lookupDuration.Record(duration.TotalSeconds, result, pathTag);
    }

    public void Store(bool stored) =>
        _stores.Add(1, new KeyValuePair<string, object?>("querycache.result", stored ? "stored" : "dropped"));

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

    public void Error(CacheOperation operation) => _errors.Add(1, new KeyValuePair<string, object?>("querycache.operation", operation switch
    {
        CacheOperation.Lookup => "lookup",
        CacheOperation.Store => "store",
        _ => "hits",
    }));
}
