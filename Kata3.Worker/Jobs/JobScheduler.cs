using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Starts scheduled orders on time: every Worker:SchedulePollInterval it queues the scheduled jobs
/// whose start time has come (PostgreSQL first) and pushes them to their ready lists, the way the
/// API pushes a new order. Every replica runs one; they share the due rows without overlap.
/// </summary>
internal sealed class JobScheduler(
    ScheduleStore store,
    SweepQueue queue,
    IOptions<WorkerOptions> options,
    ILogger<JobScheduler> logger) : BackgroundService
{
    private const int BatchSize = 1000;
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(200), options.Value.MaxBackoff);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SchedulePollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    // A full batch means more may be due: go on without waiting for the next tick.
                    while (await QueueDueAsync(stoppingToken) == BatchSize)
                    {
                    }
                    _backoff.Reset();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    var pause = _backoff.Next();
                    logger.LogWarning("Queuing due scheduled jobs failed; trying again in {Pause}: {Error}", pause, ex.Message);
                    await Task.Delay(pause, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<int> QueueDueAsync(CancellationToken cancellationToken)
    {
        var rows = await store.QueueDueAsync(BatchSize, cancellationToken);
        if (rows.Count == 0)
        {
            return 0;
        }
        // Queued in PostgreSQL, so not lost if this push fails: the sweeper delivers queued jobs Redis lacks.
        // A row that cannot become a message is left to the sweeper too, which makes it a dead letter.
        await queue.PushAsync(rows.Select(r => r.Message).OfType<JobMessage>().ToList());
        logger.LogDebug("Queued {Count} scheduled job(s) whose start time has come", rows.Count);
        return rows.Count;
    }
}
