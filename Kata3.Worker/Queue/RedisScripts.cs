using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// The worker's Redis writes that must keep working when Redis is at its memory limit
/// (maxmemory with noeviction). Redis then refuses every "denyoom" command (LPUSH, RPUSH, LMOVE,
/// SET, SADD, INCR) and every command queued in a MULTI, so a worker that took, acknowledged or
/// handed back jobs with those would stop, and nothing would ever free the memory. Each write is
/// one script flagged allow-oom instead: atomic as a MULTI was, and accepted at the limit. Each
/// moves, removes or renews what is already there (a set-aside record is capped), so none of them
/// grows Redis without bound; adding new work (the API's and the sweeper's push) stays refusable.
/// </summary>
internal static class RedisScripts
{
    // KEYS: in-hand list, enqueued set. ARGV: n, then n entries, then n job ids.
    public const string Acknowledge = """
        #!lua flags=allow-oom
        local n = tonumber(ARGV[1])
        for i = 2, n + 1 do
          redis.call('LREM', KEYS[1], 1, ARGV[i])
        end
        if n > 0 then
          redis.call('SREM', KEYS[2], unpack(ARGV, n + 2, 2 * n + 1))
        end
        return n
        """;

    // KEYS: in-hand list, poison list, enqueued set. ARGV: entry, record, cap, job id or "".
    public const string SetAside = """
        #!lua flags=allow-oom
        redis.call('LREM', KEYS[1], 1, ARGV[1])
        redis.call('LPUSH', KEYS[2], ARGV[2])
        redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
        if ARGV[4] ~= '' then
          redis.call('SREM', KEYS[3], ARGV[4])
        end
        return 1
        """;

    // KEYS: in-hand list, ready list, signal list. ARGV: entry, most signals kept. Only an entry
    // still in hand goes back, so a job acknowledged meanwhile is not delivered twice.
    public const string MoveBack = """
        #!lua flags=allow-oom
        if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
          return 0
        end
        redis.call('RPUSH', KEYS[2], ARGV[1])
        redis.call('LPUSH', KEYS[3], 1)
        redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
        return 1
        """;

    // KEYS: heartbeat key, workers set. ARGV: beat, lease in ms, worker id.
    public const string Heartbeat = """
        #!lua flags=allow-oom
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        return 1
        """;

    // KEYS: lock. ARGV: holder, hold in ms. 1 when taken.
    private const string TryLock = """
        #!lua flags=allow-oom
        if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
          return 1
        end
        return 0
        """;

    /// <summary>Takes a lock that lapses by itself after <paramref name="hold"/>; false when someone else holds it.</summary>
    public static async Task<bool> TryLockAsync(IDatabase db, RedisKey key, string holder, TimeSpan hold) =>
        (long)(await db.ScriptEvaluateAsync(TryLock, [key], [holder, (long)Math.Max(1, hold.TotalMilliseconds)])) == 1;
}
