using Kata3.Contracts;
using Kata3.Worker.Jobs;
using Kata3.Worker.Queue;
using Kata3.Worker.Retention;

namespace Kata3.Worker;

internal static class WorkerExtensions
{
    /// <summary>Registers the worker's background services, what they use, and their PostgreSQL and Redis clients.</summary>
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Redis: the shared connection for short commands (acknowledge, requeue); the blocking pop has its own.
        builder.AddStoreClients(maxDatabaseConnections: 20);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(WorkerIdentity.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<BlockingRedisConnection>();
        builder.Services.AddSingleton<JobQueue>();
        builder.Services.AddSingleton<ReplicaRegistry>();
        builder.Services.AddSingleton<SweepQueue>();
        builder.Services.AddSingleton<PausedPriorities>();
        builder.Services.AddSingleton<AttemptStore>();
        builder.Services.AddSingleton<SweepStore>();
        builder.Services.AddSingleton<ScheduleStore>();
        builder.Services.AddSingleton<RetentionStore>();
        builder.Services.AddSingleton<InHandJobs>();
        builder.Services.AddSingleton<JobExecutor>();
        builder.Services.AddSingleton<UnreadableEntries>();
        builder.Services.AddSingleton<WorkerMetrics>();
        builder.Services.AddSingleton<ConsumeLoopHealth>();
        builder.Services.AddOptions<FailureSimulationOptions>().BindConfiguration(FailureSimulationOptions.SectionName);

        // Hosted services start in order: nothing runs before the schema is there.
        builder.Services.AddHostedService<SchemaGate>();
        // Hosted services stop in reverse order: the lease keeper outlives the consumer, so a job
        // being finished during shutdown keeps its lease to the end.
        builder.Services.AddHostedService<LeaseKeeper>();
        builder.Services.AddHostedService<CancelListener>();
        builder.Services.AddHostedService<JobSweeper>();
        builder.Services.AddHostedService<JobScheduler>();
        builder.Services.AddHostedService<RetentionService>();
        builder.Services.AddHostedService<JobConsumer>();

        // Resolves the singleton above, so the check reads the beats the consume loop writes.
        builder.Services.AddHealthChecks()
            .AddCheck<ConsumeLoopHealth>("consume-loop");

        return builder;
    }
}
