using Kata3.Api.Apis;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>Dead letters: listing them and sending them back to the queue.</summary>
internal sealed class JobStore(NpgsqlDataSource dataSource)
{
    public async Task<JobPage> ListAsync(string status, int page, int pageSize, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*) FROM jobs WHERE status = @status;

            SELECT id, order_id, status, attempts, error, updated_at
            FROM jobs
            WHERE status = @status
            ORDER BY updated_at DESC, id
            LIMIT @limit OFFSET @offset
            """);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("limit", pageSize);
        command.Parameters.AddWithValue("offset", (page - 1) * pageSize);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);

        var items = new List<JobSummary>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new JobSummary(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }
        return new JobPage(items, page, pageSize, total);
    }

    /// <summary>
    /// Sends dead jobs (one, or all when <paramref name="jobId"/> is null) back to the queue with a
    /// fresh attempt budget, their orders back to pending, and any simulated failure lifted.
    /// Returns the messages to push.
    /// </summary>
    public async Task<IReadOnlyList<JobMessage>> RequeueDeadAsync(Guid? jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH requeued AS (
                UPDATE jobs
                SET status = @queued, run_at = now(), retry_base = attempts, simulate_failures = 0,
                    error = NULL, completed_at = NULL, updated_at = now()
                WHERE status = @dead AND (@job_id::uuid IS NULL OR id = @job_id)
                RETURNING id, order_id, enqueued_at, trace_parent, trace_state, priority
            ), orders_back AS (
                UPDATE orders SET status = @pending, updated_at = now()
                FROM requeued WHERE orders.id = requeued.order_id
            )
            SELECT id, order_id, enqueued_at, trace_parent, trace_state, priority FROM requeued
            """);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("dead", JobStatus.Dead);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);
        command.Parameters.AddWithValue("job_id", (object?)jobId ?? DBNull.Value);

        var messages = new List<JobMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(JobMessage.FromRow(reader));
        }
        return messages;
    }

    /// <summary>The job's status, or null when there is no such job.</summary>
    public async Task<string?> GetStatusAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT status FROM jobs WHERE id = @job_id");
        command.Parameters.AddWithValue("job_id", jobId);
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }
}
