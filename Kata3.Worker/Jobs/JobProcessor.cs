using System.Diagnostics;
using Kata3.Contracts;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>Processes exactly one job: marks it started, does the work, records the outcome.</summary>
internal sealed class JobProcessor(
    JobStore store,
    WorkerIdentity identity,
    WorkerMetrics metrics,
    TimeProvider time,
    IOptions<WorkerOptions> options,
    ILogger<JobProcessor> logger)
{
    public async Task ProcessAsync(JobMessage message, CancellationToken cancellationToken)
    {
        // Continue the trace of the POST that created the job: one order, one trace.
        ActivityContext.TryParse(message.TraceParent, message.TraceState, out var parent);
        using var activity = Kata3Telemetry.ActivitySource.StartActivity("process job", ActivityKind.Consumer, parent);
        activity?.SetTag("kata3.order_id", message.OrderId);
        activity?.SetTag("kata3.job_id", message.JobId);
        activity?.SetTag("kata3.worker_id", identity.Id);
        using var scope = logger.BeginScope("Order {OrderId} job {JobId} on {WorkerId}", message.OrderId, message.JobId, identity.Id);

        logger.LogInformation("Received job {JobId} for order {OrderId} on {WorkerId}", message.JobId, message.OrderId, identity.Id);

        var attempt = await store.StartAsync(message.JobId, identity.Id, cancellationToken);
        if (attempt is null)
        {
            // Already finished (a duplicate delivery) or never stored: nothing to do.
            logger.LogWarning("Job {JobId} is unknown or already finished; skipping it", message.JobId);
            return;
        }

        var started = time.GetTimestamp();
        metrics.RecordQueueLatency(time.GetUtcNow() - message.EnqueuedAt);
        logger.LogInformation("Processing job {JobId} for order {OrderId} (attempt {Attempt})", message.JobId, message.OrderId, attempt);

        try
        {
            await DoWorkAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.FailAsync(message.JobId, attempt.Value, ex.Message, cancellationToken);
            metrics.RecordProcessed(time.GetElapsedTime(started), "failed");
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "Job {JobId} for order {OrderId} failed", message.JobId, message.OrderId);
            return;
        }

        var recorded = await store.CompleteAsync(message.JobId, attempt.Value, cancellationToken);
        metrics.RecordProcessed(time.GetElapsedTime(started), recorded ? "completed" : "superseded");
        if (recorded)
        {
            logger.LogInformation("Completed job {JobId} for order {OrderId}", message.JobId, message.OrderId);
        }
        else
        {
            logger.LogWarning("Job {JobId} was finished by another attempt; this result is discarded", message.JobId);
        }
    }

    // The kata's simulated work. Real work would go here, taking the same cancellation token.
    private Task DoWorkAsync(JobMessage message, CancellationToken cancellationToken) =>
        Task.Delay(options.Value.JobDuration, time, cancellationToken);
}
