using Kata3.Contracts;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Queue;

/// <summary>
/// Which priorities are paused: PostgreSQL's queue_pauses is the record that survives restarts,
/// Redis' <see cref="QueueKeys.Paused"/> the copy the fetch script reads. The API writes both; the
/// sweeper copies the record to Redis every sweep, so a Redis that restarted empty is paused again;
/// until then the set is missing, which the fetch reads as "not known yet": it takes nothing.
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

    // KEYS: paused set, signal list. ARGV: most signals kept, the marker, then the paused
    // priorities. Replaces the set in one step, marker included. It wakes the idle workers only
    // when that opened a priority: one was resumed, or the set was missing (Redis lost it, or this
    // is the first copy) and not everything is paused. So the sweeper's copy every second wakes nobody.
    private const string Apply = """
        local existed = redis.call('EXISTS', KEYS[1]) == 1
        local before = redis.call('SMEMBERS', KEYS[1])
        redis.call('DEL', KEYS[1])
        redis.call('SADD', KEYS[1], unpack(ARGV, 2))
        local opened = not existed and #ARGV - 2 < 3
        for _, priority in ipairs(before) do
          if redis.call('SISMEMBER', KEYS[1], priority) == 0 then
            opened = true
          end
        end
        if opened then
          redis.call('LPUSH', KEYS[2], 1, 1, 1, 1, 1, 1, 1, 1)
          redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[1]) - 1)
          return 1
        end
        return 0
        """;

    /// <summary>Makes Redis' copy say exactly <paramref name="paused"/>; true when that let workers take more.</summary>
    public static async Task<bool> ApplyAsync(IDatabase db, IReadOnlyCollection<string> paused) =>
        (long)await db.ScriptEvaluateAsync(Apply, [QueueKeys.Paused, QueueKeys.Signal],
            [ReadyQueue.MaxSignals, QueueKeys.PausedKnownMarker, .. paused.Select(p => (RedisValue)p)]) == 1;
}
