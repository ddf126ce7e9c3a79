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

    public HeldJob[] Snapshot() => [.. _jobs.Values];

    public Guid[] JobIds() => [.. _jobs.Keys];
}

/// <summary>One claimed attempt in hand; <see cref="Lost"/> fires when its lease turns out to be no longer ours.</summary>
internal sealed class HeldJob(Guid jobId, int attempt) : IDisposable
{
    private readonly CancellationTokenSource _lost = new();

    public Guid JobId => jobId;

    public int Attempt => attempt;

    public CancellationToken Lost => _lost.Token;

    /// <summary>Cancels the attempt's work. Its callbacks run on the thread pool, not on the lease keeper.</summary>
    public void MarkLost()
    {
        try
        {
            _ = _lost.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended meanwhile: nothing left to cancel.
        }
    }

    public void Dispose() => _lost.Dispose();
}
