using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Tests.Infrastructure;

/// <summary>
/// Orders and jobs written straight into PostgreSQL, as the API leaves them (order pending, job
/// queued), for tests that then arrange Redis to disagree with them.
/// </summary>
public static class JobRows
{
    /// <summary>One pending order with its queued job, accepted <paramref name="age"/> ago (due since then).</summary>
    public static async Task<(Guid OrderId, Guid JobId)> InsertQueuedJobAsync(
        this Kata3App app, string product, TimeSpan age, string priority = JobPriority.Normal)
    {
        var (orderId, jobId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await using var insert = app.Database.CreateCommand("""
            WITH new_order AS (
                INSERT INTO orders (id, job_id, product, quantity, price, status, created_at, updated_at)
                VALUES (@order_id, @job_id, @product, 1, 9.99, 'pending', now() - @age, now() - @age) RETURNING id)
            INSERT INTO jobs (id, order_id, status, priority, enqueued_at, run_at)
            SELECT @job_id, id, 'queued', @priority, now() - @age, now() - @age FROM new_order
            """);
        insert.Parameters.AddWithValue("order_id", orderId);
        insert.Parameters.AddWithValue("job_id", jobId);
        insert.Parameters.AddWithValue("product", product);
        insert.Parameters.AddWithValue("age", age);
        insert.Parameters.AddWithValue("priority", priority);
        await insert.ExecuteNonQueryAsync();
        return (orderId, jobId);
    }

    /// <summary>
    /// A backlog of <paramref name="count"/> queued jobs accepted <paramref name="age"/> ago, each
    /// with its entry in its priority's ready list and its id in the enqueued set, as a healthy
    /// push leaves them. The rows become due only once every entry is pushed, so the sweeper never
    /// sees them due with their entries still missing. Returns the job ids.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> InsertBacklogAsync(this Kata3App app, int count, TimeSpan age, string priority)
    {
        await using var insert = app.Database.CreateCommand("""
            WITH source AS (
                SELECT gen_random_uuid() AS order_id, gen_random_uuid() AS job_id,
                       now() - @age + g * interval '1 microsecond' AS at
                FROM generate_series(1, @count) AS g
            ), new_orders AS (
                INSERT INTO orders (id, job_id, product, quantity, price, status, created_at, updated_at)
                SELECT order_id, job_id, 'backlog', 1, 9.99, 'pending', at, at FROM source
            )
            INSERT INTO jobs (id, order_id, status, priority, enqueued_at, run_at)
            SELECT job_id, order_id, 'queued', @priority, at, 'infinity' FROM source
            RETURNING id, order_id, enqueued_at
            """);
        insert.Parameters.AddWithValue("count", count);
        insert.Parameters.AddWithValue("age", age);
        insert.Parameters.AddWithValue("priority", priority);
        insert.CommandTimeout = 120;
        var messages = new List<JobMessage>(count);
        await using (var reader = await insert.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                messages.Add(new JobMessage(JobMessage.CurrentVersion, reader.GetGuid(0), reader.GetGuid(1),
                    reader.GetFieldValue<DateTimeOffset>(2), null, null, priority));
            }
        }

        // Oldest first onto the left, as the API pushes, so the oldest is taken first.
        foreach (var chunk in messages.Chunk(1000))
        {
            var batch = app.Redis.CreateBatch();
            var pushed = batch.ListLeftPushAsync(QueueKeys.ReadyFor(priority), [.. chunk.Select(m => (RedisValue)m.Serialize())]);
            var recorded = batch.SetAddAsync(QueueKeys.Enqueued, [.. chunk.Select(m => (RedisValue)m.JobId.ToString())]);
            batch.Execute();
            await Task.WhenAll(pushed, recorded);
        }

        var jobIds = messages.Select(m => m.JobId).ToArray();
        await using var due = app.Database.CreateCommand("UPDATE jobs SET run_at = enqueued_at WHERE id = ANY(@ids)");
        due.Parameters.AddWithValue("ids", jobIds);
        due.CommandTimeout = 120;
        await due.ExecuteNonQueryAsync();
        return jobIds;
    }

    /// <summary>
    /// Whether the job has reached the workers: its entry is in the head of a ready list or in a
    /// replica's hands, or a replica has already claimed it. Looks only at the newest
    /// <paramref name="readyHead"/> entries of each ready list, where a fresh push lands.
    /// </summary>
    public static async Task<bool> IsDeliveredAsync(this Kata3App app, Guid jobId, int readyHead = 1000)
    {
        await using (var command = app.Database.CreateCommand("SELECT attempts > 0 OR status <> 'queued' FROM jobs WHERE id = @id"))
        {
            command.Parameters.AddWithValue("id", jobId);
            if (await command.ExecuteScalarAsync() is true)
            {
                return true;
            }
        }
        foreach (var priority in JobPriority.All)
        {
            if ((await app.Redis.ListRangeAsync(QueueKeys.ReadyFor(priority), 0, readyHead - 1)).Any(e => Names(e, jobId)))
            {
                return true;
            }
        }
        var server = app.Redis.Multiplexer.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: QueueKeys.Processing("*")))
        {
            if ((await app.Redis.ListRangeAsync(key)).Any(e => Names(e, jobId)))
            {
                return true;
            }
        }
        return false;
    }

    private static bool Names(RedisValue entry, Guid jobId) => entry.ToString().Contains(jobId.ToString(), StringComparison.OrdinalIgnoreCase);
}
