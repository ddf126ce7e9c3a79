using System.Collections.Concurrent;

namespace Kata3.Worker.Jobs;

/// <summary>
/// The jobs this replica is working on right now: exactly the leases the lease keeper renews, so
/// a job it has lost track of cannot stay leased to it forever.
/// </summary>
internal sealed class InHandJobs
{
    private readonly ConcurrentDictionary<Guid, byte> _jobs = new();

    public void Add(Guid jobId) => _jobs.TryAdd(jobId, 0);

    public void Remove(Guid jobId) => _jobs.TryRemove(jobId, out _);

    public Guid[] Snapshot() => [.. _jobs.Keys];
}
