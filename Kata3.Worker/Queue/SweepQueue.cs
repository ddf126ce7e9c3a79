using Kata3.Contracts;
using Kata3.Queue;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// The recovery paths' side of Redis, beside <see cref="Jobs.SweepStore"/>'s side of PostgreSQL:
/// who leads this round's sweep and audit, which jobs Redis holds, and pushing those it lacks.
/// Redis' own bookkeeping (the enqueued set) serves the fast sweep; the audit reads the lists.
/// </summary>
internal sealed class SweepQueue(IConnectionMultiplexer redis, ReplicaRegistry replicas, WorkerIdentity identity)
{
    /// <summary>Tries to become this round's sweeper; the claim lapses by itself.</summary>
    public Task<bool> TryLeadSweepAsync(TimeSpan hold) =>
        RedisScripts.TryLockAsync(redis.GetDatabase(), QueueKeys.SweeperLock, identity.Id, hold);

    /// <summary>Tries to become this interval's auditor; the claim lapses by itself.</summary>
    public Task<bool> TryLeadAuditAsync(TimeSpan hold) =>
        redis.GetDatabase().StringSetAsync(QueueKeys.AuditLock, identity.Id, hold, When.NotExists);

    /// <summary>Of the given job ids, those Redis holds nowhere (neither ready nor in anyone's hands).</summary>
    public async Task<IReadOnlyList<Guid>> MissingAsync(IReadOnlyList<Guid> jobIds)
    {
        if (jobIds.Count == 0)
        {
            return [];
        }
        var present = await redis.GetDatabase().SetContainsAsync(QueueKeys.Enqueued,
            jobIds.Select(id => (RedisValue)id.ToString()).ToArray());
        return jobIds.Where((_, i) => !present[i]).ToList();
    }

    /// <summary>
    /// The ids of the jobs whose entries are in a ready list or in the hands of a replica with a
    /// live heartbeat, and how many entries were read. A ready list is read in chunks from its
    /// newest end: a push meanwhile only makes an entry be read twice, and a take moves it into a
    /// hand list, which is read after the ready lists (each in one piece).
    /// </summary>
    public async Task<(HashSet<Guid> JobIds, long Entries)> HeldJobIdsAsync(int chunk)
    {
        var db = redis.GetDatabase();
        var held = new HashSet<Guid>();
        long entries = 0;
        foreach (var priority in JobPriority.All)
        {
            for (long start = 0; ; start += chunk)
            {
                var values = await db.ListRangeAsync(QueueKeys.ReadyFor(priority), start, start + chunk - 1);
                entries += Collect(values, held);
                if (values.Length < chunk)
                {
                    break;
                }
            }
        }
        await foreach (var (owner, live) in replicas.InHandListsAsync())
        {
            if (live)
            {
                entries += Collect(await db.ListRangeAsync(QueueKeys.Processing(owner)), held);
            }
        }
        return (held, entries);
    }

    /// <summary>Delivers jobs again from their rows: onto their ready lists, recorded as enqueued.</summary>
    public Task PushAsync(IReadOnlyCollection<JobMessage> messages) => ReadyQueue.PushAsync(redis.GetDatabase(), messages);

    private static int Collect(RedisValue[] entries, HashSet<Guid> jobIds)
    {
        foreach (var entry in entries)
        {
            if (JobMessage.TryReadJobId(((ReadOnlyMemory<byte>)entry).Span) is { } jobId)
            {
                jobIds.Add(jobId);
            }
        }
        return entries.Length;
    }
}
