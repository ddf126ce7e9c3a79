using System.Diagnostics;
using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Runs one taken queue entry end to end: reads it, claims its job, does the work, records the
/// outcome, and settles the entry (acknowledged, handed back or set aside). The loop around it,
/// with its slots and back-off, is <see cref="JobConsumer"/>.
/// </summary>
internal sealed class JobExecutor(
    JobQueue queue,
    AttemptStore store,
    UnreadableEntries unreadable,
    InHandJobs inHand,
    WorkerIdentity identity,
    WorkerMetrics metrics,
    TimeProvider time,
    IOptions<WorkerOptions> options,
    IOptions<FailureSimulationOptions> simulation,
    ILogger<JobExecutor> logger)
{
    // Tries of a write that PostgreSQL refuses for a reason other than an outage or a conflict.
    private const int MaxRefusals = 3;
    // Metric outcomes of attempts that recorded nothing of their own.
    private const string Lost = "lost";
    private const string Superseded = "superseded";
    private const string Unrecorded = "unrecorded";

    /// <summary>
    /// Runs <paramref name="entry"/>, which this replica has taken into its in-hand list. Throws
    /// when Redis or PostgreSQL fails, so that the loop backs off.
    /// </summary>
    /// <param name="stopping">Set once the replica takes no more jobs.</param>
    /// <param name="abort">Cancelled only when a stopping replica runs out of time for its jobs.</param>
    public async Task RunAsync(string entry, CancellationToken stopping, CancellationToken abort)
    {
        if (stopping.IsCancellationRequested)
        {
            // Taken by a blocking take that outlasted the stop: another replica runs it.
            await queue.ReturnAsync(entry);
            return;
        }

        var message = JobMessage.TryParse(entry);
        if (message is null || message.Version != JobMessage.CurrentVersion)
        {
            await HandBackOnFailureAsync(entry, async () =>
            {
                await unreadable.SetAsideAsync(entry, message, abort);
                return true;
            }, abort);
            return;
        }

        // Continue the trace of the POST that created the job: one order, one trace.
        ActivityContext.TryParse(message.TraceParent, message.TraceState, out var parent);
        using var activity = Kata3Telemetry.ActivitySource.StartActivity("process job", ActivityKind.Consumer, parent);
        activity?.SetTag("kata3.order_id", message.OrderId);
        activity?.SetTag("kata3.job_id", message.JobId);
        activity?.SetTag("kata3.worker_id", identity.Id);
        using var scope = logger.BeginScope("Order {OrderId} job {JobId} on {WorkerId}", message.OrderId, message.JobId, identity.Id);

        logger.LogDebug("Received job {JobId} for order {OrderId} on {WorkerId}", message.JobId, message.OrderId, identity.Id);

        var (claim, jobExists) = await HandBackOnFailureAsync(entry, () => store.ClaimAsync(message.JobId, abort), abort);
        if (claim is null && !jobExists)
        {
            logger.LogError("Set aside a queue entry naming job {JobId}, which does not exist", message.JobId);
            await queue.SetAsideAsync(entry, $"Names job {message.JobId}, which does not exist.", message.JobId);
        }
        else if (claim is null)
        {
            // Finished or cancelled, leased by a live replica, or waiting for its retry: a duplicate delivery.
            logger.LogInformation("Job {JobId} is not claimable now; skipping this delivery", message.JobId);
            await queue.AcknowledgeAsync(entry, message.JobId);
        }
        else if (await HandBackOnFailureAsync(entry, () => RunClaimedAsync(message, claim, activity, abort), abort))
        {
            // At-least-once: the entry leaves Redis only after its outcome is committed in PostgreSQL.
            await queue.AcknowledgeAsync(entry, message.JobId);
        }
        else
        {
            await queue.ReturnAsync(entry);
        }
    }

    // Until it is settled the entry is in this replica's hands: when a step fails (PostgreSQL
    // unreachable), put it back rather than lose it. Past the stop's abort it stays; the sign-off returns it.
    private async Task<T> HandBackOnFailureAsync<T>(string entry, Func<Task<T>> step, CancellationToken abort)
    {
        try
        {
            return await step();
        }
        catch (Exception) when (!abort.IsCancellationRequested)
        {
            await queue.ReturnAsync(entry);
            throw;
        }
    }

    /// <summary>
    /// Works a claimed job and records its outcome. True when the attempt is over (its outcome
    /// recorded, or no longer its own to record); false when a stop ran out of time and the job
    /// was released unfinished.
    /// </summary>
    private async Task<bool> RunClaimedAsync(JobMessage message, ClaimedJob claim, Activity? activity, CancellationToken abort)
    {
        using var held = inHand.Add(message.JobId, claim.Attempt);
        try
        {
            var started = time.GetTimestamp();
            metrics.RecordQueueLatency(time.GetUtcNow() - message.EnqueuedAt);
            logger.LogDebug("Processing job {JobId} for order {OrderId} (attempt {Attempt} of {MaxAttempts})",
                message.JobId, message.OrderId, claim.Attempt, claim.MaxAttempts);

            string outcome;
            try
            {
                outcome = await WorkAsync(claim, held, abort) switch
                {
                    LostLease => Lose(message, claim),
                    CancelledByOperator => await CancelAsync(message, claim, activity, abort),
                    null => await CompleteAsync(message, claim, activity, abort),
                    var failure => await FailAsync(message, claim, failure, activity, abort),
                };
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                // Out of shutdown time: hand the job straight back rather than wait for its lease to lapse.
                using var release = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await store.ReleaseAsync(message.JobId, claim.Attempt, release.Token);
                metrics.RecordProcessed(time.GetElapsedTime(started), AttemptOutcome.Interrupted);
                logger.LogWarning("Handed job {JobId} back to the queue unfinished: this replica is stopping", message.JobId);
                return false;
            }

            metrics.RecordProcessed(time.GetElapsedTime(started), outcome);
            return true;
        }
        finally
        {
            inHand.Remove(held);
        }
    }

    /// <summary>
    /// Runs the work under the attempt's limits: the stop's abort (thrown), a lost lease, an
    /// operator's cancel and the job timeout (returned). Null when the work succeeded, else why it did not.
    /// </summary>
    private async Task<Exception?> WorkAsync(ClaimedJob claim, HeldJob held, CancellationToken abort)
    {
        var timeout = options.Value.JobTimeout;
        using var work = CancellationTokenSource.CreateLinkedTokenSource(abort, held.Lost, held.Cancelled);
        work.CancelAfter(timeout);
        try
        {
            if (claim.Attempt > claim.MaxAttempts)
            {
                // Every earlier attempt vanished with its worker: this job may be what kills them.
                throw new PermanentJobException($"Gave up after {claim.MaxAttempts} attempts that never finished.");
            }
            // WaitAsync: work that ignores its token still lets go of the slot when the attempt ends.
            await DoWorkAsync(claim, work.Token).WaitAsync(work.Token);
            return null;
        }
        catch (OperationCanceledException) when (work.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            // A lost lease first: then nothing of this attempt is ours to record, not even a cancel.
            return held.Lost.IsCancellationRequested ? new LostLease()
                : held.Cancelled.IsCancellationRequested ? new CancelledByOperator()
                : new JobTimedOutException(timeout);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !abort.IsCancellationRequested)
        {
            return ex;
        }
    }

    // Another attempt owns the job now (or will once the sweeper requeues it): nothing of this one is ours to record.
    private string Lose(JobMessage message, ClaimedJob claim)
    {
        logger.LogWarning("Lost job {JobId} attempt {Attempt}: its lease is no longer this replica's; cancelled its work and recorded nothing",
            message.JobId, claim.Attempt);
        return Lost;
    }

    /// <summary>Records an attempt stopped at an operator's request: attempt, job and order cancelled.</summary>
    private async Task<string> CancelAsync(JobMessage message, ClaimedJob claim, Activity? activity, CancellationToken abort)
    {
        activity?.AddEvent(new ActivityEvent("cancelled by an operator"));
        var written = await RecordAsync(ct => store.CancelAsync(message.JobId, claim.Attempt, ct), abort);
        if (written.Refusal is { } refusal)
        {
            // The request stays in PostgreSQL (cancel_requested_at): once the lease lapses the sweeper ends the job cancelled.
            logger.LogError(refusal, "Gave up recording the cancel of job {JobId} attempt {Attempt}: PostgreSQL refused it; the job is left to its lease",
                message.JobId, claim.Attempt);
            return Unrecorded;
        }
        if (!written.Recorded)
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} lost its claim before its cancel was recorded", message.JobId, claim.Attempt);
            return Superseded;
        }
        metrics.RecordCancelled();
        logger.LogInformation("Cancelled job {JobId} for order {OrderId} at an operator's request (attempt {Attempt})",
            message.JobId, message.OrderId, claim.Attempt);
        return AttemptOutcome.Cancelled;
    }

    private async Task<string> CompleteAsync(JobMessage message, ClaimedJob claim, Activity? activity, CancellationToken abort)
    {
        var written = await RecordAsync(ct => store.CompleteAsync(message.JobId, claim.Attempt, ct), abort);
        if (written.Refusal is { } refusal)
        {
            // The work is done but PostgreSQL will not take its completion: fail the attempt with why.
            return await FailAsync(message, claim, new OutcomeRefusedException($"PostgreSQL refused the completion: {refusal.Message}", refusal),
                activity, abort);
        }
        if (!written.Recorded)
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} lost its claim before it finished; its result is discarded",
                message.JobId, claim.Attempt);
            return Superseded;
        }
        logger.LogInformation("Completed job {JobId} for order {OrderId}", message.JobId, message.OrderId);
        return AttemptOutcome.Completed;
    }

    /// <summary>Records a failed or timed-out attempt: retried after a back-off, or dead on the last attempt or a permanent error.</summary>
    private async Task<string> FailAsync(JobMessage message, ClaimedJob claim, Exception failure, Activity? activity,
        CancellationToken abort)
    {
        var dead = failure is PermanentJobException || claim.Attempt >= claim.MaxAttempts;
        var delay = dead ? TimeSpan.Zero : options.Value.Retry.DelayAfter(claim.Attempt);
        var outcome = failure is JobTimedOutException ? AttemptOutcome.TimedOut : dead ? AttemptOutcome.Dead : AttemptOutcome.Failed;
        activity?.SetStatus(ActivityStatusCode.Error, failure.Message);

        var written = await RecordAsync(ct => store.FailAsync(message.JobId, claim.Attempt, outcome, dead, failure.Message, delay, ct), abort);
        if (written.Refusal is { } refusal)
        {
            // Nothing about this attempt can be written: free the slot and stop renewing its lease.
            // Dropping the queue entry loses nothing: PostgreSQL still has the job processing, and
            // the sweeper requeues and pushes it once the lease lapses.
            logger.LogError(refusal, "Gave up recording job {JobId} attempt {Attempt} ({Failure}): PostgreSQL refused it; the job is left to its lease",
                message.JobId, claim.Attempt, failure.Message);
            return Unrecorded;
        }
        if (!written.Recorded)
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} lost its claim before it failed ({Error}); nothing recorded",
                message.JobId, claim.Attempt, failure.Message);
            return Superseded;
        }
        if (dead)
            logger.LogError(failure, "Job {JobId} for order {OrderId} is dead after attempt {Attempt}", message.JobId, message.OrderId, claim.Attempt);
        else
            logger.LogWarning("Job {JobId} attempt {Attempt} {Outcome} ({Error}); retrying in {Delay}", message.JobId, claim.Attempt, outcome, failure.Message, delay);
        return outcome;
    }

    // The kata's simulated work. Real work would go here, taking the same cancellation token; work
    // that computes before its first await should begin with `await Task.Yield()`: this runs on
    // the claim writer's thread (group commit continues its callers inline) and would hold it.
    private async Task DoWorkAsync(ClaimedJob claim, CancellationToken cancellationToken)
    {
        if (simulation.Value.Enabled)
        {
            if (claim.SimulateFailures == FailureSimulationOptions.Permanent)
                throw new PermanentJobException("Simulated permanent failure.");
            if (claim.SimulateFailures == FailureSimulationOptions.Hang)
                await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
            if (claim.Attempt <= claim.SimulateFailures)
                throw new InvalidOperationException($"Simulated transient failure {claim.Attempt} of {claim.SimulateFailures}.");
        }
        await Task.Delay(options.Value.JobDuration, time, cancellationToken);
    }

    /// <summary>
    /// Writes an outcome. An outage or a conflict is waited out without bound: the work is done
    /// and must not be lost or failed because the database blinked; only a stop that has run out
    /// of time ends the wait (the lease then lapses and the job runs again). Any other error is
    /// the statement's or the data's own, which no retry mends: after a few tries it is returned.
    /// </summary>
    private async Task<Written> RecordAsync(Func<CancellationToken, Task<bool>> write, CancellationToken abort)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        var refusals = 0;
        while (true)
        {
            try
            {
                return new Written(await write(abort), Refusal: null);
            }
            catch (Exception ex) when (!abort.IsCancellationRequested)
            {
                var transient = StoreFaults.IsTransient(ex);
                if (!transient && ++refusals >= MaxRefusals)
                {
                    return new Written(Recorded: false, Refusal: ex);
                }
                var pause = backoff.Next();
                logger.LogWarning("Could not record the outcome ({Error}); trying again in {Pause}", ex.Message, pause);
                await Task.Delay(pause, time, abort);
            }
        }
    }

    /// <summary>Whether the outcome was written (false: the attempt had lost the job), or the error that refused it for good.</summary>
    private readonly record struct Written(bool Recorded, Exception? Refusal);

    /// <summary>The work stopped because the lease was lost: no outcome of this attempt is recorded.</summary>
    private sealed class LostLease() : Exception("The lease was lost.");

    /// <summary>The work stopped because an operator cancelled the job: the attempt, job and order end cancelled.</summary>
    private sealed class CancelledByOperator() : Exception(Cancellation.JobError);
}
