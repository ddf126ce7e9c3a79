using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Makes PostgreSQL's view of what must run come true in Redis, once per SweepInterval, on one
/// replica at a time: jobs held by dead replicas go back to the queue, expired leases are
/// requeued, and due queued jobs that Redis lacks (a failed push, an API that died before its
/// push, a retry whose back-off has passed, a Redis that restarted empty) are pushed.
/// </summary>
internal sealed class JobSweeper(
    JobQueue queue,
    SweepStore store,
    IOptions<WorkerOptions> options,
    ILogger<JobSweeper> logger) : BackgroundService
{
    private const int BatchSize = 1000;
    private static readonly TimeSpan FreshJobGrace = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.SweepInterval;
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                if (await queue.TryLeadSweepAsync(interval * 0.9))
                {
                    await SweepAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis or PostgreSQL unreachable: nothing is lost, the next sweep tries again.
                logger.LogWarning("Sweep failed: {Error}", ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var fromDead = await queue.RecoverFromDeadWorkersAsync();
        var expired = await store.RequeueExpiredLeasesAsync(BatchSize, cancellationToken);

        var due = await store.DueJobsAsync(BatchSize, FreshJobGrace, cancellationToken);
        var missing = (await queue.MissingAsync(due.Select(r => r.JobId).ToList())).ToHashSet();
        var pushed = await DeliverAsync(due.Where(r => missing.Contains(r.JobId)).ToList(), cancellationToken);

        if (fromDead + expired + pushed > 0)
        {
            logger.LogWarning(
                "Sweep: returned {FromDead} job(s) held by vanished replicas, requeued {Expired} expired lease(s), pushed {Pushed} due job(s) Redis lacked",
                fromDead, expired, pushed);
        }
    }

    // Pushes the rows that make a message; a row that cannot be read becomes a dead letter, not a job pushed forever.
    private async Task<int> DeliverAsync(IReadOnlyList<JobRow> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows.Where(r => r.Message is null))
        {
            if (await store.DeadLetterAsync(row.JobId, row.Unreadable!, cancellationToken))
            {
                logger.LogError("Job {JobId} is dead: {Reason}", row.JobId, row.Unreadable);
            }
        }
        var messages = rows.Select(r => r.Message).OfType<JobMessage>().ToList();
        foreach (var batch in messages.Chunk(BatchSize))
        {
            await queue.PushAsync(batch);
        }
        return messages.Count;
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
