using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using QueryCache;
using QueryCache.Jobs;

namespace Quartz;

/// <summary>Adds the query cache's jobs to the host's Quartz configuration.</summary>
public static class QueryCacheQuartzConfiguratorExtensions
{
    private const string OnDemandOnly = "-";

    /// <summary>
    /// Adds the backfill job (on demand) and the cleanup job (on <see cref="QueryCacheJobOptions.CleanupSchedule"/>, read
    /// when the scheduler is built, so options bound from configuration set it), and registers <see cref="IQueryCacheJobs"/>.
    /// Call inside the host's <c>AddQuartz(q => ...)</c>, with <c>AddQueryCache</c> registered too.
    /// </summary>
    /// <param name="quartz">The host's Quartz configurator.</param>
    /// <param name="configure">Sets the job options (batch sizes, schedule, backfill privacy).</param>
    /// <returns>The configurator.</returns>
    public static IQuartzBuilder AddQueryCacheJobs(this IQuartzBuilder quartz, Action<QueryCacheJobOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(quartz);
        if (configure is not null)
        {
            quartz.Services.Configure(configure);
        }

        return quartz.AddJobsAndSchedule();
    }

    /// <summary>Adds the jobs with their options bound from a configuration section (for example <c>"QueryCache:Jobs"</c>).</summary>
    /// <param name="quartz">The host's Quartz configurator.</param>
    /// <param name="section">The section whose keys are the <see cref="QueryCacheJobOptions"/> property names.</param>
    /// <returns>The configurator.</returns>
    public static IQuartzBuilder AddQueryCacheJobs(this IQuartzBuilder quartz, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(quartz);
        ArgumentNullException.ThrowIfNull(section);
        quartz.Services.AddOptions<QueryCacheJobOptions>().Bind(section);
        return quartz.AddJobsAndSchedule();
    }

    /// <summary>
    /// Settings for Quartz's clustered ADO.NET job store on the cache's database, so each firing runs on exactly one
    /// instance. Its tables live in schema <c>querycache_quartz</c> (created by the QueryCache migrations); Quartz creates
    /// the tables it is missing when the scheduler starts. Call inside <c>AddQuartz(q => ...)</c>.
    /// </summary>
    /// <param name="quartz">The host's Quartz configurator.</param>
    /// <param name="connectionString">The application database holding the QueryCache schema.</param>
    /// <returns>The configurator.</returns>
    public static IQuartzBuilder UseQueryCacheClusteredStore(this IQuartzBuilder quartz, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(quartz);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        quartz.UsePersistentStore(store =>
        {
            store.UseClustering(cluster => cluster.CheckinInterval = TimeSpan.FromSeconds(5));
            store.UsePostgres(connectionString);
            store.ProvisionSchema();
            store.ConfigureStore(ado =>
            {
                ado.TablePrefix = QueryCacheSchema.QuartzTablePrefix;
                ado.StoreJobDataAsStrings = true;
            });
        });
        return quartz;
    }

    private static IQuartzBuilder AddJobsAndSchedule(this IQuartzBuilder quartz)
    {
        quartz.Services.AddOptions<QueryCacheJobOptions>().ValidateOnStart();
        quartz.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryCacheJobOptions>, CleanupScheduleValidator>());
        quartz.Services.TryAddSingleton<IQueryCacheJobs, QueryCacheJobTrigger>();
        quartz.AddJob<QueryCacheBackfillJob>(job => job.WithIdentity(QueryCacheJobKeys.Backfill).StoreDurably()
            .WithDescription("Caches the answered questions of the app's history (askwealth.v_cached_qa_pairs)."));
        quartz.AddJob<QueryCacheCleanupJob>(job => job.WithIdentity(QueryCacheJobKeys.Cleanup).StoreDurably()
            .WithDescription("Deletes expired cache entries, then the least recently used over the size caps."));

        // The schedule is read from the validated options as the scheduler is built; "-" switches the trigger off
        // (and unschedules one a clustered store still holds).
        quartz.AddConfiguredTrigger<QueryCacheCleanupJob>($"{nameof(QueryCacheJobOptions)}:{nameof(QueryCacheJobOptions.CleanupSchedule)}",
            (services, _) => services.GetRequiredService<IOptions<QueryCacheJobOptions>>().Value.CleanupSchedule is { Length: > 0 } cron
                && !string.IsNullOrWhiteSpace(cron) ? cron : OnDemandOnly,
            (_, cron, trigger) => trigger.WithIdentity(QueryCacheJobKeys.CleanupSchedule).ForJob(QueryCacheJobKeys.Cleanup)
                .WithCronSchedule(cron ?? new QueryCacheJobOptions().CleanupSchedule!,
                    schedule => schedule.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
        return quartz;
    }
}
