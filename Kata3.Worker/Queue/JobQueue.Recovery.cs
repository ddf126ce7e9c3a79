using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

// Recovery: what the sweeper uses to make Redis hold every job PostgreSQL says must run, without
// trusting Redis' own bookkeeping (the replica registry).
internal sealed partial class JobQueue
{
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
