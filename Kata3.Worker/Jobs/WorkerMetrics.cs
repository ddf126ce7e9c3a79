using System.Diagnostics.Metrics;

namespace Kata3.Worker.Jobs;

/// <summary>The worker's instruments, on the Kata3 meter that ServiceDefaults exports.</summary>
internal sealed class WorkerMetrics
{
    private readonly Histogram<double> _queueLatency;
    private readonly Histogram<double> _processingDuration;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _cancelled;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _rescues;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _rateLimited;

    /// <summary>Values of kata3.job.rescues' cause tag.</summary>
    public static class RescueCause
    {
        /// <summary>Taken back from the in-hand list of a replica that died (or restarted).</summary>
        public const string Crash = "crash";
        /// <summary>Requeued by the sweeper because its attempt's lease lapsed.</summary>
        public const string LeaseExpiry = "lease_expiry";
        /// <summary>Queued in PostgreSQL but in no Redis list: pushed again by the sweeper.</summary>
        public const string LostPush = "lost_push";
    }

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
        _retries = meter.CreateCounter<long>("kata3.job.retries", unit: "{attempt}",
            description: "Failed attempts (timeouts included) whose job will be tried again.");
        _rescues = meter.CreateCounter<long>("kata3.job.rescues", unit: "{job}",
            description: "Jobs the recovery paths put back in the queue, by cause.");
        _timeouts = meter.CreateCounter<long>("kata3.job.timeouts", unit: "{attempt}",
            description: "Attempts cancelled for running past Worker:JobTimeout.");
        _rateLimited = meter.CreateCounter<long>("kata3.job.rate_limited", unit: "{fetch}",
            description: "Fetches that started nothing because Worker:MaxJobsPerSecond was reached.");
    }

    public void RecordRetry() => _retries.Add(1);

    public void RecordRescues(int jobs, string cause)
    {
        if (jobs > 0)
        {
            _rescues.Add(jobs, new KeyValuePair<string, object?>("cause", cause));
        }
    }

    public void RecordTimeout() => _timeouts.Add(1);

    public void RecordRateLimited() => _rateLimited.Add(1);

    public void RecordQueueLatency(TimeSpan latency) => _queueLatency.Record(Math.Max(0, latency.TotalSeconds));

    public void RecordProcessed(TimeSpan duration, string outcome)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _processingDuration.Record(duration.TotalSeconds, tag);
        _processed.Add(1, tag);
    }

    public void RecordCancelled() => _cancelled.Add(1);
}
