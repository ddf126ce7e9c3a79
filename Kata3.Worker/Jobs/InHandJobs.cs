using System.Collections.Concurrent;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The jobs this replica is working on right now, each with the attempt it claimed: exactly the
/// leases the lease keeper renews, so a job it has lost track of cannot stay leased to it forever,
/// and a job whose lease it no longer holds can be told so.
/// </summary>
internal sealed class InHandJobs
{
    private readonly ConcurrentDictionary<Guid, HeldJob> _jobs = new();

    public HeldJob Add(Guid jobId, int attempt)
    {
        var job = new HeldJob(jobId, attempt);
        // A newer claim of the same job (this replica took it again after its own lease lapsed)
        // supersedes the attempt still in hand, which the renewals would otherwise never see.
        _jobs.AddOrUpdate(jobId, job, (_, older) =>
        {
            older.MarkLost();
            return job;
        });
        return job;
    }

    /// <summary>Forgets this attempt (and not a later one of the same job that replaced it).</summary>
    public void Remove(HeldJob job) => _jobs.TryRemove(new KeyValuePair<Guid, HeldJob>(job.JobId, job));

    /// <summary>Asks the attempt in hand of this job, if any, to stop at an operator's request; false when none is here.</summary>
    public bool Cancel(Guid jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return false;
        }
        job.MarkCancelled();
        return true;
    }

    public HeldJob[] Snapshot() => [.. _jobs.Values];

    public Guid[] JobIds() => [.. _jobs.Keys];
}

/// <summary>
/// One claimed attempt in hand. Two reasons to stop its work, kept apart because they end it
/// differently: <see cref="Lost"/> (its lease is no longer ours: record nothing) and
/// <see cref="Cancelled"/> (an operator cancelled it: record the cancel).
/// </summary>
internal sealed class HeldJob(Guid jobId, int attempt) : IDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _cancelled = new();

    public Guid JobId => jobId;

    public int Attempt => attempt;

    public CancellationToken Lost => _lost.Token;

    public CancellationToken Cancelled => _cancelled.Token;

    /// <summary>Cancels the attempt's work. Its callbacks run on the thread pool, not on the caller.</summary>
    public void MarkLost() => Cancel(_lost);

    /// <summary>Stops the attempt's work at an operator's request, likewise off the caller's thread.</summary>
    public void MarkCancelled() => Cancel(_cancelled);

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            _ = source.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended meanwhile: nothing left to cancel.
        }
    }

    public void Dispose()
    {
        _lost.Dispose();
        _cancelled.Dispose();
    }
}
