using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>When the consume loop last came round. The health check reads it; the loop writes it.</summary>
internal sealed class ConsumerHeartbeat(TimeProvider time)
{
    private long _lastBeatTicks;

    public DateTimeOffset? LastBeat =>
        Interlocked.Read(ref _lastBeatTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Beat() => Interlocked.Exchange(ref _lastBeatTicks, time.GetUtcNow().UtcTicks);
}

/// <summary>Healthy while the consume loop keeps coming round; a stuck or dead loop turns /health red.</summary>
internal sealed class ConsumerHealthCheck(ConsumerHeartbeat heartbeat, TimeProvider time, IOptions<WorkerOptions> options)
    : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (heartbeat.LastBeat is not { } lastBeat)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The consume loop has not started."));
        }

        // One iteration lasts at most a fetch, a job and a back-off pause; allow that and a margin.
        var o = options.Value;
        var allowed = o.FetchTimeout + o.JobDuration + o.MaxBackoff + TimeSpan.FromSeconds(10);
        var silent = time.GetUtcNow() - lastBeat;
        return Task.FromResult(silent <= allowed
            ? HealthCheckResult.Healthy($"Last fetch {silent.TotalSeconds:0.0} s ago.")
            : HealthCheckResult.Unhealthy($"The consume loop has not come round for {silent.TotalSeconds:0} s."));
    }
}
