using Kata3.Contracts;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Queue;

/// <summary>
/// Which priorities are paused: PostgreSQL's queue_pauses is the record that survives restarts,
/// Redis' <see cref="QueueKeys.Paused"/> the copy the fetch script reads. The API writes both; the
/// sweeper copies the record to Redis every sweep, so a Redis that restarted empty is paused again.
/// </summary>
public static class QueuePauses
{
    /// <summary>The paused priorities as PostgreSQL records them.</summary>
    public static async Task<IReadOnlyList<string>> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT priority FROM queue_pauses");
        var paused = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            paused.Add(reader.GetString(0));
        }
        return [.. JobPriority.All.Where(paused.Contains)];
    }

    // KEYS: paused set, signal list. ARGV: most signals kept, then the paused priorities. Replaces
    // the set in one step; only when a priority was resumed does it wake the idle workers, so the
    // sweeper's copy every second wakes nobody.
    private const string Apply = """
        local before = redis.call('SMEMBERS', KEYS[1])
        redis.call('DEL', KEYS[1])
        if #ARGV > 1 then
          redis.call('SADD', KEYS[1], unpack(ARGV, 2))
        end
        for _, priority in ipairs(before) do
          if redis.call('SISMEMBER', KEYS[1], priority) == 0 then
            redis.call('LPUSH', KEYS[2], 1, 1, 1, 1, 1, 1, 1, 1)
            redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[1]) - 1)
            return 1
          end
        end
        return 0
        """;

    /// <summary>Makes Redis' copy say exactly <paramref name="paused"/>; true when that resumed a priority.</summary>
    public static async Task<bool> ApplyAsync(IDatabase db, IReadOnlyCollection<string> paused) =>
        (long)await db.ScriptEvaluateAsync(Apply, [QueueKeys.Paused, QueueKeys.Signal],
            [ReadyQueue.MaxSignals, .. paused.Select(p => (RedisValue)p)]) == 1;
}
