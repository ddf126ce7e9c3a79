using Kata3.Contracts;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Api.Operations;

/// <summary>
/// Reads <see cref="QueueStats"/> and recent throughput: job states from PostgreSQL (the record),
/// list lengths and replicas from Redis. Every count goes through a partial index, so a read costs
/// about the same whatever the backlog.
/// </summary>
internal sealed class QueueStatsReader(NpgsqlDataSource dataSource, DatabasePools pools, IConnectionMultiplexer redis)
{
    public async Task<QueueStats> ReadAsync(CancellationToken cancellationToken)
    {
        var database = pools.ReadAsync(() => ReadDatabaseAsync(cancellationToken));
        var queue = ReadRedisAsync();
        var (counts, processingBy) = await database;
        var (ready, poison, replicas) = await queue;
        return new QueueStats(
            DateTimeOffset.UtcNow,
            ready,
            counts.Processing,
            counts.Retrying,
            counts.Scheduled,
            counts.Dead,
            poison,
            counts.OldestReadySeconds,
            counts.Paused,
            [.. replicas.Select(r => r with { Jobs = processingBy.TryGetValue(r.WorkerId, out var jobs) ? jobs : [] })]);
    }

    /// <summary>Jobs finished per minute over the last <paramref name="minutes"/> minutes, oldest first, empty minutes included.</summary>
    public Task<IReadOnlyList<ThroughputMinute>> ReadThroughputAsync(int minutes, CancellationToken cancellationToken) =>
        pools.ReadAsync(async () =>
        {
            // Completed jobs by completed_at, dead and cancelled ones by updated_at: each through its index.
            await using var command = dataSource.CreateCommand("""
                WITH minutes AS (
                    SELECT generate_series(date_trunc('minute', now()) - (@minutes - 1) * interval '1 minute',
                                           date_trunc('minute', now()), interval '1 minute') AS minute
                ), finished AS (
                    SELECT date_trunc('minute', completed_at) AS minute, 1 AS completed, 0 AS failed
                    FROM jobs WHERE status = 'completed' AND completed_at >= (SELECT min(minute) FROM minutes)
                    UNION ALL
                    SELECT date_trunc('minute', updated_at), 0, 1
                    FROM jobs WHERE status IN ('dead', 'cancelled') AND updated_at >= (SELECT min(minute) FROM minutes)
                )
                SELECT m.minute, coalesce(sum(f.completed), 0)::bigint, coalesce(sum(f.failed), 0)::bigint
                FROM minutes m LEFT JOIN finished f ON f.minute = m.minute
                GROUP BY m.minute ORDER BY m.minute
                """);
            command.Parameters.AddWithValue("minutes", minutes);
            var result = new List<ThroughputMinute>(minutes);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result.Add(new ThroughputMinute(reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
            return (IReadOnlyList<ThroughputMinute>)result;
        });

    private sealed record DatabaseCounts(long Processing, long Retrying, long Scheduled, long Dead, double OldestReadySeconds, IReadOnlyList<string> Paused);

    private async Task<(DatabaseCounts Counts, Dictionary<string, IReadOnlyList<Guid>> ProcessingBy)> ReadDatabaseAsync(
        CancellationToken cancellationToken)
    {
        // A job waiting for a retry is queued with its run_at ahead; a ready one has run_at behind.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT
                (SELECT count(*) FROM jobs WHERE status = 'processing'),
                (SELECT count(*) FROM jobs WHERE status = 'queued' AND run_at > now()),
                (SELECT count(*) FROM jobs WHERE status = 'scheduled'),
                (SELECT count(*) FROM jobs WHERE status = 'dead'),
                (SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8
                   FROM jobs WHERE status = 'queued' AND run_at <= now()),
                ARRAY(SELECT priority FROM queue_pauses)
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT worker_id, id FROM jobs WHERE status = 'processing' AND worker_id IS NOT NULL"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var paused = reader.GetFieldValue<string[]>(5);
        var counts = new DatabaseCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
            Math.Max(0, reader.GetDouble(4)), [.. JobPriority.All.Where(paused.Contains)]);
        await reader.NextResultAsync(cancellationToken);
        var processingBy = new Dictionary<string, List<Guid>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var workerId = reader.GetString(0);
            if (!processingBy.TryGetValue(workerId, out var jobs))
            {
                processingBy[workerId] = jobs = [];
            }
            jobs.Add(reader.GetGuid(1));
        }
        return (counts, processingBy.ToDictionary(p => p.Key, p => (IReadOnlyList<Guid>)p.Value));
    }

    private async Task<(IReadOnlyDictionary<string, long> Ready, long Poison, IReadOnlyList<ReplicaState> Replicas)> ReadRedisAsync()
    {
        var db = redis.GetDatabase();
        var ready = JobPriority.All.ToDictionary(p => p, p => db.ListLengthAsync(QueueKeys.ReadyFor(p)));
        var poison = db.ListLengthAsync(QueueKeys.Poison);
        var workerIds = (await db.SetMembersAsync(QueueKeys.Workers)).Select(id => (string)id!).Order(StringComparer.Ordinal).ToList();
        var replicas = workerIds.Select(async id =>
        {
            var alive = db.KeyExistsAsync(QueueKeys.Heartbeat(id));
            var inHand = db.ListLengthAsync(QueueKeys.Processing(id));
            return new ReplicaState(id, await alive, await inHand, []);
        }).ToList();
        var states = await Task.WhenAll(replicas);
        await Task.WhenAll(ready.Values);
        return (ready.ToDictionary(p => p.Key, p => p.Value.Result), await poison, states);
    }
}
