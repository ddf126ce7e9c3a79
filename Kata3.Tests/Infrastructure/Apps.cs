namespace Kata3.Tests.Infrastructure;

/// <summary>
/// One replica and short jobs: order of processing is observable and waits are short. It exports
/// traces to a receiver in the test process (every trace kept), so a test can read an order's
/// whole trace as the dashboard would show it.
/// </summary>
public sealed class OneWorkerApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300))
{
    protected override bool ExportsTelemetry => true;
}

/// <summary>Three replicas and one-second jobs, so that several replicas get a share.</summary>
public sealed class ThreeWorkersApp() : Kata3App(workers: 3, jobDuration: TimeSpan.FromSeconds(1));

/// <summary>
/// Two replicas and long jobs, so a replica can be stopped while it holds one; an idle replica's
/// blocking pop waits 30 s, so a stop that waited it out would show.
/// </summary>
public sealed class LongJobsApp() : Kata3App(workers: 2, jobDuration: TimeSpan.FromSeconds(4),
    "--Kata3:Worker:FetchTimeout=00:00:30");

/// <summary>
/// Three replicas, five-second jobs and a three-second lease: a replica can be killed or stopped
/// while it holds a job, a dead one is noticed within seconds (by a replica left idle), and a
/// one-second shutdown timeout is much shorter than any job.
/// </summary>
public sealed class WorkerFailureApp() : Kata3App(workers: 3, jobDuration: TimeSpan.FromSeconds(5),
    "--Kata3:Worker:LeaseDuration=00:00:03",
    "--Kata3:Worker:ShutdownTimeout=00:00:01")
{
    protected override bool ExportsTelemetry => true;
}

/// <summary>
/// Two replicas and two-second jobs, for stopping Redis or PostgreSQL under them; a failing consume
/// loop pauses at most 2 s, so the replicas are back at work soon after an outage ends.
/// </summary>
public sealed class OutageApp() : Kata3App(workers: 2, jobDuration: TimeSpan.FromSeconds(2),
    "--Kata3:Worker:LeaseDuration=00:00:03",
    "--Kata3:Worker:MaxBackoff=00:00:02");

/// <summary>
/// One replica, one slot and one-second jobs: a backlog that outlasts filling Redis up. It prunes
/// every second with the default windows, and its poison list is capped at five.
/// </summary>
public sealed class LimitsApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromSeconds(1),
    "--Kata3:Worker:Retention:Interval=00:00:01",
    $"--Kata3:Worker:Retention:PoisonEntries={Retention.RetentionTests.PoisonCap}");

/// <summary>Two replicas, short jobs and quick retries: at most three attempts, 0.2 s apart and more.</summary>
public sealed class RetryApp() : Kata3App(workers: 2, jobDuration: TimeSpan.FromMilliseconds(300),
    "--Kata3:Worker:Retry:MaxAttempts=3",
    "--Kata3:Worker:Retry:BaseDelay=00:00:00.2",
    "--Kata3:Worker:Retry:MaxDelay=00:00:01");

// One app per collection: the classes of a collection share it, one test at a time.
[CollectionDefinition(Name)]
public sealed class OneWorkerCollection : ICollectionFixture<OneWorkerApp>
{
    public const string Name = "One worker";
}

/// <summary>
/// Hostile input (random requests, some simulated to hang; a hundred-odd orders at once): its
/// backlog would hold up the shared one-worker app, so it has a one-worker app of its own.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HostileInputCollection : ICollectionFixture<OneWorkerApp>
{
    public const string Name = "Hostile input";
}

/// <summary>What keeps Redis and PostgreSQL from growing without bound: Redis' memory limit, retention.</summary>
[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsApp>
{
    public const string Name = "Limits";
}

[CollectionDefinition(Name), StartsFirst]
public sealed class WorkerFailureCollection : ICollectionFixture<WorkerFailureApp>
{
    public const string Name = "Worker failures";
}

[CollectionDefinition(Name), StartsFirst]
public sealed class OutageCollection : ICollectionFixture<OutageApp>
{
    public const string Name = "Infrastructure outages";
}

[CollectionDefinition(Name)]
public sealed class RetryCollection : ICollectionFixture<RetryApp>
{
    public const string Name = "Retries and dead jobs";
}
