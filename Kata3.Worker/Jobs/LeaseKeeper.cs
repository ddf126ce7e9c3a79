using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Keeps this replica's claims alive: every third of a lease it renews its Redis heartbeat and
/// the PostgreSQL leases of the jobs it is processing, and returns entries its in-hand list holds
/// for no job of it. Registered before the consumer, so on
/// shutdown it stops after it: a job being finished keeps its lease to the end.
/// </summary>
internal sealed class LeaseKeeper(
    JobQueue queue,
    JobStore store,
    InHandJobs inHand,
    IOptions<WorkerOptions> options,
    ILogger<LeaseKeeper> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RenewAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            if (await queue.SignOffAsync() is > 0 and var returned)
            {
                logger.LogWarning("Returned {Count} job(s) still in this replica's hands to the queue as it signed off", returned);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not sign off: {Error}", ex.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseDuration / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            await queue.HeartbeatAsync();
            var held = inHand.Snapshot();
            await store.RenewLeasesAsync(held, options.Value.LeaseDuration, cancellationToken);
            if (await queue.ReturnOrphansAsync(held) is > 0 and var orphans)
            {
                logger.LogWarning("Returned {Count} in-hand entries that no job of this replica was working on to the queue", orphans);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not renew this replica's heartbeat and leases: {Error}", ex.Message);
        }
    }
}
