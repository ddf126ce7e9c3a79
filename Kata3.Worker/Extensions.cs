using Kata3.Contracts;
using Kata3.Worker;
using Kata3.Worker.Jobs;
using Kata3.Worker.Queue;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

internal static class WorkerExtensions
{
    /// <summary>Registers the consume loop, the job processor and their PostgreSQL and Redis clients.</summary>
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Statements are batched (group commit), so a few connections carry any concurrency; the
        // cap keeps a burst of failures in many slots from exhausting PostgreSQL's 100 connections.
        builder.AddNpgsqlDataSource(ResourceNames.Database,
            configureDataSourceBuilder: dataSource =>
            {
                dataSource.ConnectionStringBuilder.MaxPoolSize = 20;
                // The same few statements run thousands of times a second: prepare them once per
                // connection instead of having PostgreSQL parse and plan them every time.
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 10;
            });
        // Shared connection for short commands (acknowledge, requeue); the blocking pop has its own.
        // The .NET thread pool, not StackExchange.Redis's own dedicated threads: those spin and
        // yield while waiting for socket work, which took half of a worker's CPU at 500 jobs/s.
        builder.AddRedisClient(ResourceNames.Redis, configureOptions: redis => redis.SocketManager = SocketManager.ThreadPool);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(WorkerIdentity.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<BlockingRedisConnection>();
        builder.Services.AddSingleton<JobQueue>();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<SweepStore>();
        builder.Services.AddSingleton<InHandJobs>();
        builder.Services.AddSingleton<JobProcessor>();
        builder.Services.AddSingleton<WorkerMetrics>();
        builder.Services.AddSingleton<ConsumerHeartbeat>();
        builder.Services.AddOptions<FailureSimulationOptions>().BindConfiguration(FailureSimulationOptions.SectionName);

        // Hosted services stop in reverse order: the lease keeper outlives the consumer, so a job
        // being finished during shutdown keeps its lease to the end.
        builder.Services.AddHostedService<LeaseKeeper>();
        builder.Services.AddHostedService<JobSweeper>();
        builder.Services.AddHostedService<JobConsumer>();

        builder.Services.AddHealthChecks()
            .AddCheck<ConsumerHealthCheck>("consume-loop");

        return builder;
    }
}
