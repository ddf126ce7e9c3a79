using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The loop around <see cref="JobExecutor"/>: while a slot is free (Worker:Concurrency), take
/// entries and run each in its own task; when none is ready, block until one is pushed; after a
/// failure, back off. On stop it takes no new job and gives those in hand ShutdownTimeout to
/// finish; after that they are handed straight back to the queue.
/// </summary>
internal sealed class JobConsumer(
    JobQueue queue,
    BlockingRedisConnection blocking,
    ReplicaRegistry replicas,
    JobExecutor executor,
    ConsumeLoopHealth health,
    WorkerMetrics metrics,
    IOptions<WorkerOptions> options,
    ILogger<JobConsumer> logger) : BackgroundService
{
    // Cancelled only when a stop runs out of time; the stopping token merely ends fetching.
    private readonly CancellationTokenSource _abort = new();
    private readonly SemaphoreSlim _slots = new(options.Value.Concurrency, options.Value.Concurrency);
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(200), options.Value.MaxBackoff);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var recovered = await replicas.RecoverInHandAsync();
        metrics.RecordRescues(recovered, WorkerMetrics.RescueCause.Crash);
        if (recovered > 0)
        {
            logger.LogWarning("Returned {Count} job(s) this replica held when it last stopped to the queue", recovered);
        }
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _abort.CancelAfter(options.Value.ShutdownTimeout);
        await using var abortOnHostTimeout = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A stop ends an idle replica's blocking wait at once instead of after FetchTimeout.
        await using var interruptWait = stoppingToken.Register(blocking.Interrupt);
        while (!stoppingToken.IsCancellationRequested)
        {
            health.Beat();
            try
            {
                await _slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < options.Value.Concurrency && _slots.Wait(0))
                {
                    free++;
                }
                await FetchAndStartAsync(free, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Cancelled, or the interrupted wait failing as it should.
                break;
            }
            catch (Exception ex)
            {
                await PauseAfterAsync(ex, stoppingToken);
            }
        }

        // Every slot back means every job in hand has finished or been handed back.
        for (var i = 0; i < options.Value.Concurrency; i++)
        {
            await _slots.WaitAsync(CancellationToken.None);
        }
        logger.LogInformation("Stopped taking jobs");
    }

    private async Task FetchAndStartAsync(int free, CancellationToken stoppingToken)
    {
        IReadOnlyList<string> entries = [];
        try
        {
            (entries, var throttled) = await queue.TakeAsync(free);
            if (entries.Count == 0 && throttled is null)
            {
                // Nothing ready: block until something is pushed or the replica stops.
                (entries, throttled) = await queue.WaitAndTakeAsync(free);
            }
            if (throttled is { } wait)
            {
                metrics.RecordRateLimited();
                await Task.Delay(wait, stoppingToken);
            }
            else if (entries.Count > 0)
            {
                _backoff.Reset();
            }
        }
        finally
        {
            if (entries.Count < free)
            {
                _slots.Release(free - entries.Count);
            }
        }

        foreach (var entry in entries)
        {
            _ = RunAsync(entry, stoppingToken);
        }
    }

    private async Task RunAsync(string entry, CancellationToken stoppingToken)
    {
        try
        {
            // No hop to the thread pool first: a job runs inline only up to its claim, which
            // always waits for PostgreSQL, so the fetch loop is back at once.
            await executor.RunAsync(entry, stoppingToken, _abort.Token);
        }
        catch (Exception ex)
        {
            await PauseAfterAsync(ex, stoppingToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    // A failing Redis or PostgreSQL: pause this slot (and so, with all slots failing, the replica).
    private async Task PauseAfterAsync(Exception ex, CancellationToken stoppingToken)
    {
        var pause = _backoff.Next();
        logger.LogError(ex, "Consuming failed; pausing {Pause}", pause);
        try
        {
            await Task.Delay(pause, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        _slots.Dispose();
        base.Dispose();
    }
}
