using Kata3.Contracts;
using Kata3.Queue;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Api.Operations;

/// <summary>
/// Pausing and resuming the queue, per priority or whole. PostgreSQL's queue_pauses is the record,
/// written first; Redis' copy (what the workers' fetch reads) follows. A Redis that cannot take the
/// copy does not fail the request: the record is durable and every sweep (Worker:SweepInterval,
/// 1 s) copies it to Redis, so the answer is true within a sweep.
/// </summary>
internal sealed class QueueControl(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, ILogger<QueueControl> logger)
{
    /// <summary>Pauses <paramref name="priority"/> (null: every priority); returns the paused priorities.</summary>
    public Task<IReadOnlyList<string>> PauseAsync(string? priority, CancellationToken cancellationToken) =>
        ChangeAsync("""
            INSERT INTO queue_pauses (priority) SELECT unnest(@priorities::text[])
            ON CONFLICT (priority) DO NOTHING
            """, priority, cancellationToken);

    /// <summary>Resumes <paramref name="priority"/> (null: every priority); returns the priorities still paused.</summary>
    public Task<IReadOnlyList<string>> ResumeAsync(string? priority, CancellationToken cancellationToken) =>
        ChangeAsync("DELETE FROM queue_pauses WHERE priority = ANY(@priorities)", priority, cancellationToken);

    /// <summary>Empties the poison list; returns how many entries it held.</summary>
    public async Task<long> PurgePoisonAsync()
    {
        // Length and delete in one transaction, so an entry set aside in between is counted.
        var purge = redis.GetDatabase().CreateTransaction();
        var length = purge.ListLengthAsync(QueueKeys.Poison);
        _ = purge.KeyDeleteAsync(QueueKeys.Poison);
        await purge.ExecuteAsync();
        return await length;
    }

    private async Task<IReadOnlyList<string>> ChangeAsync(string sql, string? priority, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand(sql))
        {
            command.Parameters.AddWithValue("priorities", priority is null ? JobPriority.All.ToArray() : new[] { priority });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        // Read back rather than computed, so other operators' changes are included. Two changes racing
        // may reach Redis out of order; the next sweep's copy settles it.
        var paused = await QueuePauses.ReadAsync(dataSource, cancellationToken);
        try
        {
            await QueuePauses.ApplyAsync(redis.GetDatabase(), paused);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Paused priorities are now [{Paused}] in PostgreSQL, but Redis did not take the copy ({Error}); the workers' sweeper copies it within a sweep",
                string.Join(", ", paused), ex.Message);
        }
        return paused;
    }
}
