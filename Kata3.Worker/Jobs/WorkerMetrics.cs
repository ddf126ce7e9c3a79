using System.Diagnostics.Metrics;

namespace Kata3.Worker.Jobs;

/// <summary>The worker's instruments, on the Kata3 meter that ServiceDefaults exports.</summary>
internal sealed class WorkerMetrics
{
    private readonly Histogram<double> _queueLatency;
    private readonly Histogram<double> _processingDuration;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _cancelled;

    public WorkerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Kata3Telemetry.MeterName);
        _queueLatency = meter.CreateHistogram<double>("kata3.job.queue_latency", unit: "s",
            description: "Time from the order being accepted to its job starting to be processed.");
        _processingDuration = meter.CreateHistogram<double>("kata3.job.processing_duration", unit: "s",
            description: "Time a worker spent on one job attempt, recording its outcome included.");
        _processed = meter.CreateCounter<long>("kata3.job.processed", unit: "{job}",
            description: "Job attempts finished, by outcome.");
        _cancelled = meter.CreateCounter<long>("kata3.job.cancelled", unit: "{job}",
            description: "Running jobs stopped at an operator's request (those not yet started are cancelled by the API).");
    }

    public void RecordQueueLatency(TimeSpan latency) => _queueLatency.Record(Math.Max(0, latency.TotalSeconds));

    public void RecordProcessed(TimeSpan duration, string outcome)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _processingDuration.Record(duration.TotalSeconds, tag);
        _processed.Add(1, tag);
    }

    public void RecordCancelled() => _cancelled.Add(1);
}
