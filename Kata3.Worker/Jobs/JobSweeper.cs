using System.Diagnostics;
using Kata3.Contracts;
using Kata3.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Makes PostgreSQL's view of what must run come true in Redis, once per SweepInterval, on one
/// replica at a time: jobs held by dead replicas go back to the queue, expired leases are
/// requeued, and due queued jobs that Redis lacks (a failed push, an API that died before its
/// push, a retry whose back-off has passed, a Redis that restarted empty) are pushed. Once per
/// AuditInterval it also checks every queued, due job against what Redis really holds.
/// </summary>
internal sealed class JobSweeper(
    ReplicaRegistry replicas,
    SweepQueue queue,
    SweepStore store,
    IOptions<WorkerOptions> options,
    ILogger<JobSweeper> logger) : BackgroundService
{
    private const int BatchSize = 1000;
    // Rows per PostgreSQL page and entries per LRANGE in an audit: each statement or command stays short.
    private const int AuditPage = 10_000;
    private const int AuditChunk = 2_000;
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
                    if (await queue.TryLeadAuditAsync(options.Value.AuditInterval * 0.9))
                    {
                        await AuditAsync(stoppingToken);
                    }
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
        var fromDead = await replicas.RecoverFromDeadWorkersAsync();
        var (expired, cancelled) = await store.RequeueExpiredLeasesAsync(BatchSize, cancellationToken);

        // The fast path: the oldest due jobs, against the set of ids Redis says it holds.
        var due = await store.DueJobsAsync(BatchSize, FreshJobGrace, cancellationToken);
        var missing = (await queue.MissingAsync(due.Select(r => r.JobId).ToList())).ToHashSet();
        var pushed = await DeliverAsync(due.Where(r => missing.Contains(r.JobId)).ToList(), cancellationToken);

        if (fromDead + expired + cancelled + pushed > 0)
        {
            logger.LogWarning(
                "Sweep: returned {FromDead} job(s) held by vanished replicas, requeued {Expired} expired lease(s), cancelled {Cancelled} whose cancel was asked for, pushed {Pushed} due job(s) Redis lacked",
                fromDead, expired, cancelled, pushed);
        }
    }

    /// <summary>
    /// Every queued, due job in PostgreSQL against the entries Redis really holds (ready lists and
    /// live replicas' hands), whatever the enqueued set says: a push lost after its id was
    /// recorded, a job behind more due jobs than the fast path looks at. PostgreSQL is read first
    /// and the absent jobs are read again after Redis, so a job taken, finished or moved while the
    /// lists were read is not pushed a second time.
    /// </summary>
    private async Task AuditAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var due = new List<Guid>();
        DateTimeOffset? after = DateTimeOffset.UnixEpoch;
        while (after is { } start)
        {
            (var page, after) = await store.DueJobIdsAsync(start, AuditPage, FreshJobGrace, cancellationToken);
            due.AddRange(page);
        }
        var readDatabase = clock.Elapsed;
        if (due.Count == 0)
        {
            return;
        }

        var (held, entries) = await queue.HeldJobIdsAsync(AuditChunk);
        var readRedis = clock.Elapsed - readDatabase;
        var absent = due.Where(id => !held.Contains(id)).ToList();
        var pushed = 0;
        foreach (var chunk in absent.Chunk(AuditPage))
        {
            pushed += await DeliverAsync(await store.StillDueAsync(chunk, cancellationToken), cancellationToken);
        }

        var level = pushed > 0 ? LogLevel.Warning : LogLevel.Debug;
        logger.Log(level,
            "Audit: pushed {Pushed} of {Due} queued, due job(s) that no ready list or live replica held ({Entries} entries; PostgreSQL {DatabaseMs:0} ms, Redis {RedisMs:0} ms, total {TotalMs:0} ms)",
            pushed, due.Count, entries, readDatabase.TotalMilliseconds, readRedis.TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
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
