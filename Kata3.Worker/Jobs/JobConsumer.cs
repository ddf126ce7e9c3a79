using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The loop around <see cref="JobProcessor"/>: fetch one job, process it, acknowledge it, again.
/// On stop it takes no new job and gives the one in hand ShutdownTimeout to finish; after that
/// the job is handed straight back to the queue.
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
        _abort.CancelAfter(options.Value.ShutdownTimeout);
        await using var abortOnHostTimeout = cancellationToken.Register(_abort.Cancel);
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
                    break;
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
            var reason = message is null
                ? "Not a job message (unparseable)."
                : $"Unknown message version {message.Version}; this worker reads version {JobMessage.CurrentVersion}.";
            logger.LogError("Set aside a queue entry: {Reason} Entry: {Entry}", reason, entry.Length > 200 ? entry[..200] : entry);
            await queue.SetAsideAsync(entry, reason, jobId: null);
            return;
        }

        Disposition disposition;
        try
        {
            disposition = await processor.ProcessAsync(message, _abort.Token);
        }
        catch (Exception) when (!_abort.IsCancellationRequested)
        {
            // The job could not even be claimed (PostgreSQL unreachable): put it back, not lose it.
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
