using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The loop around <see cref="JobProcessor"/>: while a slot is free (Concurrency slots), take
/// jobs and process each in its own task; when none is ready, block until one is pushed. On stop
/// it takes no new job and gives those in hand ShutdownTimeout to finish; after that they are
/// handed straight back to the queue.
/// </summary>
internal sealed class JobConsumer(
    JobQueue queue,
    JobProcessor processor,
    UnreadableEntries unreadable,
    ConsumerHeartbeat heartbeat,
    IOptions<WorkerOptions> options,
    ILogger<JobConsumer> logger) : BackgroundService
{
    // Cancelled only when a stop runs out of time; the stopping token merely ends fetching.
    private readonly CancellationTokenSource _abort = new();
    private readonly SemaphoreSlim _slots = new(options.Value.Concurrency, options.Value.Concurrency);
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(200), options.Value.MaxBackoff);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var recovered = await queue.RecoverInHandAsync();
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
        while (!stoppingToken.IsCancellationRequested)
        {
            heartbeat.Beat();
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
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
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
                // Nothing ready: block until something is pushed. Not cancellable: the server gives
                // up after FetchTimeout, which bounds how long a stop waits (jobs taken by then are
                // handed straight back).
                (entries, throttled) = await queue.WaitAndTakeAsync(free);
            }
            if (throttled is { } wait)
            {
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
            await HandleAsync(entry, stoppingToken);
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

    private async Task HandleAsync(string entry, CancellationToken stoppingToken)
    {
        if (stoppingToken.IsCancellationRequested)
        {
            await queue.ReturnAsync(entry);
            return;
        }

        var message = JobMessage.TryParse(entry);
        Disposition disposition;
        try
        {
            if (message is null || message.Version != JobMessage.CurrentVersion)
            {
                await unreadable.SetAsideAsync(entry, message, _abort.Token);
                return;
            }
            disposition = await processor.ProcessAsync(message, _abort.Token);
        }
        catch (Exception) when (!_abort.IsCancellationRequested)
        {
            // The job could not even be claimed or looked up (PostgreSQL unreachable): put it back, not lose it.
            await queue.ReturnAsync(entry);
            throw;
        }

        switch (disposition)
        {
            case Disposition.HandBack:
                await queue.ReturnAsync(entry);
                break;
            case Disposition.Poison:
                logger.LogError("Set aside a queue entry naming job {JobId}, which does not exist", message.JobId);
                await queue.SetAsideAsync(entry, $"Names job {message.JobId}, which does not exist.", message.JobId);
                break;
            default:
                // At-least-once: the entry leaves Redis only after its outcome is committed in PostgreSQL.
                await queue.AcknowledgeAsync(entry, message.JobId);
                break;
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

/// <summary>A doubling pause, capped; its state outlives one loop iteration.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private long _nextTicks;

    public TimeSpan Next()
    {
        long current, next;
        do
        {
            current = Interlocked.Read(ref _nextTicks);
            next = Math.Min(max.Ticks, Math.Max(current, initial.Ticks) * 2);
        }
        while (Interlocked.CompareExchange(ref _nextTicks, next, current) != current);
        return TimeSpan.FromTicks(Math.Max(current, initial.Ticks));
    }

    public void Reset() => Interlocked.Exchange(ref _nextTicks, 0);
}
