using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

// Recovery: what the sweeper uses to make Redis hold every job PostgreSQL says must run, without
// trusting Redis' own bookkeeping (the replica registry, the enqueued set).
internal sealed partial class JobQueue
{
    /// <summary>Tries to become this interval's auditor; the claim lapses by itself.</summary>
    public Task<bool> TryLeadAuditAsync(TimeSpan hold) =>
        redis.GetDatabase().StringSetAsync(QueueKeys.AuditLock, identity.Id, hold, When.NotExists);

    /// <summary>
    /// Puts back on the queue what replicas without a live heartbeat still hold. The in-hand lists
    /// themselves are scanned, not the registry: a replica that signed off or was never registered
    /// with entries in hand is found too.
    /// </summary>
    public async Task<int> RecoverFromDeadWorkersAsync()
    {
        var db = redis.GetDatabase();
        var recovered = 0;
        await foreach (var owner in InHandOwnersAsync(db))
        {
            if (owner != identity.Id && !await db.KeyExistsAsync(QueueKeys.Heartbeat(owner)))
            {
                recovered += await MoveBackAsync(owner);
            }
        }
        foreach (var worker in await db.SetMembersAsync(QueueKeys.Workers))
        {
            if (worker != identity.Id && !await db.KeyExistsAsync(QueueKeys.Heartbeat(worker.ToString())))
            {
                await db.SetRemoveAsync(QueueKeys.Workers, worker);
            }
        }
        return recovered;
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
        await foreach (var owner in InHandOwnersAsync(db))
        {
            if (owner == identity.Id || await db.KeyExistsAsync(QueueKeys.Heartbeat(owner)))
            {
                entries += Collect(await db.ListRangeAsync(QueueKeys.Processing(owner)), held);
            }
        }
        return (held, entries);
    }

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

    // Every replica that has an in-hand list, found with SCAN (a key may come twice).
    private static async IAsyncEnumerable<string> InHandOwnersAsync(IDatabase db)
    {
        var cursor = "0";
        do
        {
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", QueueKeys.ProcessingPrefix + "*", "COUNT", 1000))!;
            cursor = (string)reply[0]!;
            foreach (var key in (RedisKey[])reply[1]!)
            {
                yield return key.ToString()[QueueKeys.ProcessingPrefix.Length..];
            }
        }
        while (cursor != "0");
    }
}
