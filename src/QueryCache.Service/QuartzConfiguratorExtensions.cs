using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using QueryCache;
using QueryCache.Data;
using QueryCache.Jobs;

namespace Quartz;

/// <summary>Adds the query cache's jobs to the host's Quartz configuration.</summary>
public static class QueryCacheQuartzConfiguratorExtensions
{
    /// <summary>
    /// Adds the backfill job (on demand) and the cleanup job (on <see cref="QueryCacheJobOptions.CleanupSchedule"/>), and
    /// registers <see cref="IQueryCacheJobs"/>. Call inside the host's <c>AddQuartz(q => ...)</c>, after <c>AddQueryCache</c>.
    /// </summary>
    /// <param name="quartz">The host's Quartz configurator.</param>
    /// <param name="configure">Sets the job options (batch sizes, schedule, backfill privacy).</param>
    public static IQuartzBuilder AddQueryCacheJobs(this IQuartzBuilder quartz,
        Action<QueryCacheJobOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(quartz);
        var options = new QueryCacheJobOptions();
        configure?.Invoke(options);
        if (configure is not null)
        {
            quartz.Services.Configure(configure);
        }

        quartz.Services.TryAddSingleton<IQueryCacheJobs, QueryCacheJobTrigger>();
        quartz.AddJobType(sp => new QueryCacheBackfillJob(
            sp.GetRequiredService<QueryCacheMaintenance>(), sp.GetRequiredService<ILogger<QueryCacheBackfillJob>>()));
        quartz.AddJobType(sp => new QueryCacheCleanupJob(
            sp.GetRequiredService<QueryCacheMaintenance>(), sp.GetRequiredService<ILogger<QueryCacheCleanupJob>>()));

        quartz.AddJob<QueryCacheBackfillJob>(job => job.WithIdentity(QueryCacheBackfillJob.Key).StoreDurably().DisallowConcurrentExecution()
            .WithDescription("Caches the answered questions of the app's history (askwealth.v_cached_qa_pairs)."));
        quartz.AddJob<QueryCacheCleanupJob>(job => job.WithIdentity(QueryCacheCleanupJob.Key).StoreDurably().DisallowConcurrentExecution()
            .WithDescription("Deletes expired cache entries, then the least recently used over the size caps."));
        if (!string.IsNullOrWhiteSpace(options.CleanupSchedule))
        {
            var schedule = new CronExpression(options.CleanupSchedule);
            quartz.AddTrigger(trigger => trigger.WithIdentity(QueryCacheCleanupJob.ScheduleKey).ForJob(QueryCacheCleanupJob.Key)
                .WithCronSchedule(schedule, cron => cron.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
        }

        return quartz;
    }

    /// <summary>
    /// Settings for Quartz's clustered ADO.NET job store on the cache's database, so each firing runs on exactly one
    /// instance. Its tables live in schema <c>querycache_quartz</c> (created by the QueryCache migrations); Quartz creates
    /// the tables it is missing when the scheduler starts. Call inside <c>AddQuartz(q => ...)</c>.
    /// </summary>
    /// <param name="quartz">The host's Quartz configurator.</param>
    /// <param name="connectionString">The application database holding the QueryCache schema.</param>
    public static IQuartzBuilder UseQueryCacheClusteredStore(this IQuartzBuilder quartz,
        string connectionString)
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
}
