using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.FlowControl;

/// <summary>One replica running ten two-second jobs at once.</summary>
public sealed class ConcurrentWorkerApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromSeconds(2),
    "--Kata3:Worker:Concurrency=10");

/// <summary>One replica, one job at a time, short jobs: the order in which jobs start is the order they were taken.</summary>
public sealed class PriorityApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(50));

/// <summary>
/// Two replicas of five slots each, instant jobs, at most five job starts per second across
/// the replicas, and an API limit of 50 requests per second per client with a burst of 25.
/// </summary>
public sealed class RateLimitedApp() : Kata3App(workers: 2, jobDuration: TimeSpan.Zero,
    "--Kata3:Worker:Concurrency=5",
    "--Kata3:Worker:MaxJobsPerSecond=5",
    "--Kata3:Api:RateLimiting:PermitsPerSecond=50",
    "--Kata3:Api:RateLimiting:Burst=25")
{
    protected override bool ExportsTelemetry => true;
}
