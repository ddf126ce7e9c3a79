using Kata3.Contracts;
using Kata3.Worker.Queue;

namespace Kata3.Worker.Jobs;

/// <summary>
/// A queue entry this worker cannot run (not a job message, or a version it does not read) is set
/// aside in the poison list with its reason, for people to see. When it names a job, the job's row
/// is the truth: a queued job is delivered again from it, so an entry written by a newer or broken
/// producer never strands an order.
/// </summary>
internal sealed class UnreadableEntries(JobQueue queue, SweepQueue sweepQueue, SweepStore store, ILogger<UnreadableEntries> logger)
{
    /// <summary>Throws when PostgreSQL cannot say what the entry names; the entry is then still in hand.</summary>
    public async Task SetAsideAsync(string entry, JobMessage? message, CancellationToken cancellationToken)
    {
        var reason = message is null
            ? "Not a job message this worker can read."
            : $"Unknown message version {message.Version}; this worker reads version {JobMessage.CurrentVersion}.";
        if (JobMessage.TryReadJobId(entry) is not { } jobId)
        {
            await SetAsideAsync(entry, reason, jobId: null);
            return;
        }

        var row = await store.FindAsync(jobId, cancellationToken);
        switch (row)
        {
            case null:
                // The id stays recorded as enqueued by nothing else: forget it with the entry.
                await SetAsideAsync(entry, $"{reason} It names job {jobId}, which does not exist.", jobId);
                break;
            case { Status: JobStatus.Queued, Message: { } fromRow }:
                // Pushed before the entry leaves this replica's hands: a crash in between repeats
                // the delivery, which a conditional claim makes harmless, rather than losing it.
                await sweepQueue.PushAsync([fromRow]);
                await SetAsideAsync(entry, $"{reason} Job {jobId} was delivered again from its row.", jobId: null);
                break;
            case { Status: JobStatus.Queued, Unreadable: { } unreadable }:
                await store.DeadLetterAsync(jobId, $"{reason} {unreadable}", cancellationToken);
                await SetAsideAsync(entry, $"{reason} Job {jobId} is dead: {unreadable}", jobId);
                break;
            default:
                // Claimed or finished: its holder has its own entry, or there is nothing left to run.
                await SetAsideAsync(entry, $"{reason} Job {jobId} is {row.Value.Status}: nothing to deliver.",
                    row.Value.Status is JobStatus.Completed or JobStatus.Dead ? jobId : null);
                break;
        }
    }

    private async Task SetAsideAsync(string entry, string reason, Guid? jobId)
    {
        logger.LogError("Set aside a queue entry: {Reason} Entry: {Entry}", reason, entry.Length > 200 ? entry[..200] : entry);
        await queue.SetAsideAsync(entry, reason, jobId);
    }
}
