using Kata3.Api.Data;
using Kata3.Api.Operations;
using Kata3.Api.Queue;
using Kata3.Contracts;

namespace Kata3.Api.JobsUi;

/// <summary>What an operator's button did, in words for the page it returns to.</summary>
public sealed record ActionOutcome(bool Done, string Message);

/// <summary>
/// The UI's actions, over the same stores and services as the operator routes; each answers with a
/// sentence instead of a status code, since a form post ends in a redirect.
/// </summary>
internal sealed class JobActions(JobAdminStore jobs, JobPublisher publisher, OrderCancellation cancellation, QueueControl control)
{
    public async Task<ActionOutcome> RetryAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var requeued = await jobs.RequeueDeadAsync(jobId, cancellationToken);
        if (requeued.Count == 0)
        {
            return new(false, await jobs.GetStatusAsync(jobId, cancellationToken) is { } status
                ? $"Job {jobId} is {status}: only dead jobs can be retried."
                : $"There is no job {jobId}.");
        }
        await publisher.PublishAsync(requeued[0]);
        return new(true, $"Job {jobId} is queued again with a fresh attempt budget.");
    }

    public async Task<ActionOutcome> RetryAllDeadAsync(CancellationToken cancellationToken)
    {
        var requeued = await jobs.RequeueDeadAsync(jobId: null, cancellationToken);
        await publisher.PublishAsync(requeued);
        return new(true, requeued.Count == 1 ? "1 dead job is queued again." : $"{requeued.Count} dead jobs are queued again.");
    }

    public async Task<ActionOutcome> CancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var outcome = await cancellation.CancelAsync(orderId, cancellationToken);
        return outcome.Result switch
        {
            CancelResult.Cancelled => new(true, $"Order {orderId} is cancelled; its job will not run."),
            CancelResult.Cancelling => new(true, $"Order {orderId}'s job is running: its worker was asked to stop it."),
            CancelResult.Finished => new(false, $"Order {orderId}'s job is {outcome.JobStatus}: there is nothing left to cancel."),
            _ => new(false, $"There is no order {orderId}."),
        };
    }

    /// <summary>Pauses one priority, or all when <paramref name="priority"/> is null.</summary>
    public async Task<ActionOutcome> PauseAsync(string? priority, CancellationToken cancellationToken) =>
        Paused(await control.PauseAsync(priority, cancellationToken));

    /// <summary>Resumes one priority, or all when <paramref name="priority"/> is null.</summary>
    public async Task<ActionOutcome> ResumeAsync(string? priority, CancellationToken cancellationToken) =>
        Paused(await control.ResumeAsync(priority, cancellationToken));

    private static ActionOutcome Paused(IReadOnlyList<string> paused) =>
        new(true, paused.Count == 0 ? "Every priority is running."
            : paused.Count == JobPriority.All.Count ? "The whole queue is paused."
            : $"Paused: {string.Join(", ", paused)}.");
}
