using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Retention;

/// <summary>
/// Once per Retention:Interval, on one replica at a time (a PostgreSQL advisory lock), deletes the
/// attempt history of long-finished jobs and clears expired idempotency keys, one small batch per
/// statement, so pruning never holds locks for long or competes with jobs for more than a moment.
/// </summary>
internal sealed class RetentionService(
    RetentionStore store,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PruneAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // PostgreSQL unreachable: nothing is due that cannot wait for the next round.
                    logger.LogWarning("Pruning failed: {Error}", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: both kinds of pruning to the end of what is due, batch by batch.</summary>
    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        await using var session = await store.TryLeadAsync(cancellationToken);
        if (session is null)
        {
            return;
        }

        var settings = options.Value;
        var now = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();

        // A job is created before it finishes, so only jobs created before the later cutoff can be due.
        var completedBefore = now - settings.AttemptHistory;
        var diedBefore = now - settings.DeadJobHistory;
        var createdBefore = RetentionStore.LowestIdAt(completedBefore > diedBefore ? completedBefore : diedBefore);
        int attempts = 0, batches = 0;
        var cursor = AttemptCursor.Start;
        AttemptBatch batch;
        do
        {
            batch = await session.PruneAttemptsAsync(cursor, createdBefore, completedBefore, diedBefore, settings.BatchSize, cancellationToken);
            attempts += batch.Pruned;
            cursor = batch.Next;
            batches++;
        }
        while (batch.Scanned == settings.BatchSize);

        var keysCreatedBefore = RetentionStore.LowestIdAt(now - settings.IdempotencyKeys);
        int keys = 0, expired;
        do
        {
            expired = await session.ExpireIdempotencyKeysAsync(keysCreatedBefore, settings.BatchSize, cancellationToken);
            keys += expired;
            batches++;
        }
        while (expired == settings.BatchSize);

        if (attempts + keys > 0)
        {
            logger.LogInformation(
                "Pruned {Attempts} attempt row(s) and {Keys} idempotency key(s) in {Batches} batch(es), {ElapsedMs:0} ms",
                attempts, keys, batches, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
