using System.Diagnostics.Metrics;
using Kata3.Worker.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Kata3.Tests.Fast;

/// <summary>The worker's counters as an OTLP exporter sees them: names, amounts and the rescue cause.</summary>
[Trait("Category", "Fast")]
public sealed class WorkerMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, long Value, string? Cause)> _measured = [];

    public WorkerMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Kata3Telemetry.MeterName && instrument.Name.StartsWith("kata3.job.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? cause = null;
            foreach (var tag in tags)
            {
                cause = tag.Key == "cause" ? tag.Value as string : cause;
            }
            lock (_measured)
            {
                _measured.Add((instrument.Name, value, cause));
            }
        });
        _listener.Start();
    }

    [Fact]
    public void EachCounterCountsUnderItsName()
    {
        var metrics = new WorkerMetrics(_services.GetRequiredService<IMeterFactory>());

        metrics.RecordRetry();
        metrics.RecordTimeout();
        metrics.RecordRateLimited();
        metrics.RecordRescues(3, WorkerMetrics.RescueCause.Crash);
        metrics.RecordRescues(2, WorkerMetrics.RescueCause.LeaseExpiry);
        metrics.RecordRescues(1, WorkerMetrics.RescueCause.LostPush);
        // Nothing rescued is no measurement, so a quiet sweeper adds no points.
        metrics.RecordRescues(0, WorkerMetrics.RescueCause.LostPush);

        Assert.Equal(
        [
            ("kata3.job.retries", 1L, null),
            ("kata3.job.timeouts", 1L, null),
            ("kata3.job.rate_limited", 1L, null),
            ("kata3.job.rescues", 3L, "crash"),
            ("kata3.job.rescues", 2L, "lease_expiry"),
            ("kata3.job.rescues", 1L, "lost_push"),
        ], _measured);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }
}
