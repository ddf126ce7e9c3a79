using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Operations;

/// <summary>
/// One replica with two slots and short jobs, retries ten minutes apart, exporting metrics to a
/// receiver in the test process: a test can hold both slots with hanging jobs, leave a retry
/// waiting, and compare what the stats and gauges say with the stores.
/// </summary>
public sealed class QueueStatsApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(200),
    "--Kata3:Worker:Concurrency=2",
    "--Kata3:Worker:Retry:BaseDelay=00:10:00",
    "--Kata3:Worker:Retry:MaxDelay=00:10:00",
    "--Kata3:Worker:ShutdownTimeout=00:00:01")
{
    protected override bool ExportsTelemetry => true;
}
