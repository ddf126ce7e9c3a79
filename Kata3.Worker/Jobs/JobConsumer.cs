using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The loop around <see cref="JobProcessor"/>: fetch one job, process it, acknowledge it, again.
/// On stop it takes no new job but finishes the one in hand; only if the host's shutdown timeout
/// runs out is that job abandoned, still in this replica's in-hand list.
/// </summary>
internal sealed class JobConsumer(
    JobQueue queue,
    JobProcessor processor,
    ConsumerHeartbeat heartbeat,
    IOptions<WorkerOptions> options,
    ILogger<JobConsumer> logger) : BackgroundService
{
    // Cancelled only when a stop runs out of time; the stopping token merely ends fetching.
    private readonly CancellationTokenSource _abort = new();

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
        await using var abortOnTimeout = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), options.Value.MaxBackoff);
        while (!stoppingToken.IsCancellationRequested)
        {
            heartbeat.Beat();
            try
            {
                await ConsumeOneAsync(stoppingToken);
                backoff.Reset();
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                logger.LogWarning("Shutdown timed out with a job in hand; it stays queued for this replica's restart");
                return;
            }
            catch (Exception ex)
            {
                var pause = backoff.Next();
                logger.LogError(ex, "Consume loop failed; retrying in {Pause}", pause);
                try
                {
                    await Task.Delay(pause, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        logger.LogInformation("Stopped taking jobs");
    }

    private async Task ConsumeOneAsync(CancellationToken stoppingToken)
    {
        // Not cancellable: the server gives up after FetchTimeout, which bounds how long a stop waits.
        var entry = await queue.FetchAsync();
        if (entry is null)
        {
            return;
        }
        if (stoppingToken.IsCancellationRequested)
        {
            await queue.ReturnAsync(entry);
            return;
        }

        var message = JobMessage.TryParse(entry);
        if (message is null || message.Version != JobMessage.CurrentVersion)
        {
            logger.LogError("Set aside a queue entry that is not a version {Version} job message: {Entry}",
                JobMessage.CurrentVersion, entry.Length > 200 ? entry[..200] : entry);
            await queue.SetAsideAsync(entry);
            return;
        }

        try
        {
            await processor.ProcessAsync(message, _abort.Token);
        }
        catch (Exception) when (!_abort.IsCancellationRequested)
        {
            // The outcome could not be recorded (PostgreSQL unreachable): put the job back, not lose it.
            await queue.ReturnAsync(entry);
            throw;
        }

        // At-least-once: the entry leaves Redis only after its outcome is committed in PostgreSQL.
        await queue.AcknowledgeAsync(entry);
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }
}

/// <summary>A doubling pause, capped; its state outlives one loop iteration.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private TimeSpan? _next;

    public TimeSpan Next()
    {
        var current = _next ?? initial;
        _next = TimeSpan.FromTicks(Math.Min(max.Ticks, current.Ticks * 2));
        return current;
    }

    public void Reset() => _next = null;
}
