using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Healthy while the consume loop keeps coming round; a stuck or dead loop turns /health red.
/// The loop calls <see cref="Beat"/> on every round; one instance serves both (a singleton).
/// </summary>
internal sealed class ConsumeLoopHealth(TimeProvider time, IOptions<WorkerOptions> options) : IHealthCheck
{
    private long _lastBeatTicks;

    public void Beat() => Interlocked.Exchange(ref _lastBeatTicks, time.GetUtcNow().UtcTicks);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Read(ref _lastBeatTicks) is not (> 0 and var ticks))
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The consume loop has not started."));
        }

        // One iteration lasts at most a fetch, a job and a back-off pause; allow that and a margin.
        var o = options.Value;
        var allowed = o.FetchTimeout + o.JobDuration + o.MaxBackoff + TimeSpan.FromSeconds(10);
        var silent = time.GetUtcNow() - new DateTimeOffset(ticks, TimeSpan.Zero);
        return Task.FromResult(silent <= allowed
            ? HealthCheckResult.Healthy($"Last fetch {silent.TotalSeconds:0.0} s ago.")
            : HealthCheckResult.Unhealthy($"The consume loop has not come round for {silent.TotalSeconds:0} s."));
    }
}
