namespace Kata3.Tests.Infrastructure;

/// <summary>
/// Three replicas, twelve-second jobs and a three-second lease: a replica or Redis can be frozen
/// for longer than a lease while a job still has most of its work ahead, and an idle replica is
/// there to take over.
/// </summary>
public sealed class FencingApp() : Kata3App(workers: 3, jobDuration: TimeSpan.FromSeconds(12),
    "--Kata3:Worker:LeaseDuration=00:00:03",
    "--Kata3:Worker:MaxBackoff=00:00:02");

[CollectionDefinition(Name)]
public sealed class FencingCollection : ICollectionFixture<FencingApp>
{
    public const string Name = "Lease fencing";
}
