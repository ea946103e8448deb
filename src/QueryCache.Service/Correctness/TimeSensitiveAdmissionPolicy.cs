using Microsoft.Extensions.Options;

namespace QueryCache;

/// <summary>
/// The default admission policy: a time-relative question ("today", "now", "current", "latest", "this week"...) has an
/// answer that goes stale, so it is refused, or, with <see cref="QueryCacheOptions.TimeSensitiveTimeToLive"/> set, cached
/// for that short time only. Every other question is admitted with the entry's own or the configured default lifetime.
/// </summary>
public sealed class TimeSensitiveAdmissionPolicy : ICacheAdmissionPolicy
{
    private readonly string[] _terms;
    private readonly string[] _exceptions;
    private readonly TimeSpan? _timeToLive;

    /// <summary>Creates the policy from <see cref="QueryCacheOptions.TimeSensitiveTerms"/> and <see cref="QueryCacheOptions.TimeSensitiveTimeToLive"/>.</summary>
    /// <param name="options">The cache options.</param>
    public TimeSensitiveAdmissionPolicy(IOptions<QueryCacheOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _terms = options.Value.TimeSensitiveTerms.Select(Correctness.QuestionText.StemPhrase).Where(t => t.Length > 0).ToArray();
        _exceptions = options.Value.TimeSensitiveExceptions.Select(Correctness.QuestionText.StemPhrase).Where(t => t.Length > 0).ToArray();
        _timeToLive = options.Value.TimeSensitiveTimeToLive;
    }

    /// <inheritdoc />
    public CacheAdmission Decide(CacheScope scope, string question, string answer)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (!IsTimeSensitive(question))
        {
            return CacheAdmission.Admit;
        }

        return _timeToLive is { } ttl ? new CacheAdmission(true, ttl) : CacheAdmission.Refuse("time_sensitive");
    }

    /// <summary>Whether <paramref name="question"/> asks about a moment (now, today, this week...) rather than a standing fact.</summary>
    /// <param name="question">The question.</param>
    /// <returns>True when one of the time-sensitive terms occurs in it.</returns>
    public bool IsTimeSensitive(string question)
    {
        var joined = _exceptions.Aggregate(Correctness.QuestionText.Parse(question).Joined,
            (text, exception) => text.Replace(" " + exception + " ", " ", StringComparison.Ordinal));
        return _terms.Any(term => joined.Contains(" " + term + " ", StringComparison.Ordinal));
    }
}
