using Kata3.Queue;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// Keeps Redis' paused set (what the fetch script reads) equal to PostgreSQL's queue_pauses (the
/// record): a Redis that restarted empty, or a copy the API could not write, is put right by the
/// next sweep.
/// </summary>
internal sealed class PausedPriorities(NpgsqlDataSource dataSource, IConnectionMultiplexer redis)
{
    /// <summary>Copies the record to Redis; returns the paused priorities.</summary>
    public async Task<IReadOnlyList<string>> RestoreAsync(CancellationToken cancellationToken)
    {
        var paused = await QueuePauses.ReadAsync(dataSource, cancellationToken);
        await QueuePauses.ApplyAsync(redis.GetDatabase(), paused);
        return paused;
    }
}
