namespace Kata3.Tests.Infrastructure;

/// <summary>
/// Three replicas, twelve-second jobs and a three-second lease: a replica or Redis can be frozen
/// for longer than a lease while a job still has most of its work ahead, and an idle replica is
/// there to take over.
/// </summary>
public sealed class FencingApp() : Kata3App(workers: 3, jobDuration: TimeSpan.FromSeconds(12),
    "--Kata3:Worker:LeaseDuration=00:00:03",
    "--Kata3:Worker:MaxBackoff=00:00:02");

/// <summary>
/// One replica with one slot, short jobs, a one-second job timeout and quick retries (at most three
/// attempts): whether a stuck job frees its slot shows in whether the next order completes.
/// </summary>
public sealed class JobLimitsApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300),
    "--Kata3:Worker:JobTimeout=00:00:01",
    "--Kata3:Worker:Retry:MaxAttempts=3",
    "--Kata3:Worker:Retry:BaseDelay=00:00:00.2",
    "--Kata3:Worker:Retry:MaxDelay=00:00:01")
{
    protected override bool ExportsTelemetry => true;
}

[CollectionDefinition(Name), StartsFirst]
public sealed class FencingCollection : ICollectionFixture<FencingApp>
{
    public const string Name = "Lease fencing";
}

[CollectionDefinition(Name)]
public sealed class JobLimitsCollection : ICollectionFixture<JobLimitsApp>
{
    public const string Name = "Job limits";
}
