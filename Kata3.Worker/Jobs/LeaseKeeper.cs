using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Keeps this replica's claims alive: every third of a lease it renews the PostgreSQL leases of
/// the jobs it is processing (and tells a job whose lease it lost), and, independently, its Redis
/// heartbeat, returning entries its in-hand list holds for no job of it. Registered before the consumer, so on
/// shutdown it stops after it: a job being finished keeps its lease to the end.
/// </summary>
internal sealed class LeaseKeeper(
    ReplicaRegistry replicas,
    AttemptStore store,
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
            if (await replicas.SignOffAsync() is > 0 and var returned)
            {
                logger.LogWarning("Returned {Count} job(s) still in this replica's hands to the queue as it signed off", returned);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not sign off: {Error}", ex.Message);
        }
    }

    // Two loops on one beat: a frozen Redis must not cost the PostgreSQL leases, nor the other way round.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(EveryThirdOfALeaseAsync(RenewLeasesAsync, stoppingToken), EveryThirdOfALeaseAsync(BeatAsync, stoppingToken));

    private async Task EveryThirdOfALeaseAsync(Func<CancellationToken, Task> renew, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseDuration / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await renew(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Task RenewAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(RenewLeasesAsync(cancellationToken), BeatAsync(cancellationToken));

    /// <summary>
    /// Renews the leases of the jobs in hand; a job whose lease is no longer this attempt's has its
    /// work cancelled, so a replica that was frozen or cut off past its lease stops at once; and a
    /// job an operator asked to cancel is stopped.
    /// </summary>
    private async Task RenewLeasesAsync(CancellationToken stoppingToken)
    {
        var jobs = inHand.Snapshot();
        if (jobs.Length == 0)
        {
            return;
        }
        // A renewal still unanswered after a whole lease is worth nothing: drop it, the next tick tries again.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(options.Value.LeaseDuration);
        try
        {
            var renewal = await store.RenewLeasesAsync([.. jobs.Select(j => (j.JobId, j.Attempt))], options.Value.LeaseDuration, timeout.Token);
            foreach (var job in jobs.Where(j => !renewal.Held.Contains(j.JobId)))
            {
                job.MarkLost();
            }
            // Cancels whose pub/sub message this replica missed (sent while it was disconnected).
            foreach (var job in jobs.Where(j => renewal.CancelRequested.Contains(j.JobId)))
            {
                job.MarkCancelled();
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not renew this replica's leases: {Error}", ex.Message);
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            await replicas.HeartbeatAsync();
            if (await replicas.ReturnOrphansAsync(inHand.JobIds()) is > 0 and var orphans)
            {
                logger.LogWarning("Returned {Count} in-hand entries that no job of this replica was working on to the queue", orphans);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not renew this replica's heartbeat: {Error}", ex.Message);
        }
    }
}
