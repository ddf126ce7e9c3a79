using System.Data.Common;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker.Jobs;

/// <summary>A job row as a message to push, or why it cannot be one.</summary>
internal readonly record struct JobRow(Guid JobId, string Status, JobMessage? Message, string? Unreadable);

/// <summary>
/// The recovery paths' questions to PostgreSQL, the source of truth for what must still run: the
/// sweeper's, and the consumer's when an entry it cannot read names a job.
/// </summary>
internal sealed class SweepStore(NpgsqlDataSource dataSource)
{
    // The columns JobMessage.FromRow reads, then the status.
    private const string RowColumns = "id, order_id, enqueued_at, trace_parent, trace_state, priority, status";

    /// <summary>Jobs whose worker stopped renewing the lease go back to queued (the attempt is abandoned).</summary>
    public async Task<int> RequeueExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH expired AS (
                SELECT id FROM jobs
                WHERE status = @processing AND lease_expires_at < now()
                ORDER BY lease_expires_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED
            ), requeued AS (
                UPDATE jobs SET status = @queued, run_at = now(), lease_expires_at = NULL, updated_at = now()
                FROM expired WHERE jobs.id = expired.id
                RETURNING jobs.id, jobs.attempts
            ), abandoned AS (
                UPDATE job_attempts
                SET finished_at = now(), outcome = @abandoned, error = 'Its worker stopped renewing the lease.'
                FROM requeued
                WHERE job_attempts.job_id = requeued.id AND job_attempts.attempt = requeued.attempts
                  AND job_attempts.outcome IS NULL
            )
            SELECT count(*) FROM requeued
            """);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("abandoned", AttemptOutcome.Abandoned);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Queued jobs that are due (oldest first). A never-attempted job gets a grace period, so the
    /// API's own push is not raced; a retry is due at its run_at.
    /// </summary>
    public async Task<IReadOnlyList<JobRow>> DueJobsAsync(int limit, TimeSpan grace, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {RowColumns}
            FROM jobs
            WHERE status = @queued AND run_at <= now() AND (attempts > 0 OR enqueued_at <= now() - @grace)
            ORDER BY run_at
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("grace", grace);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadRowsAsync(command, cancellationToken);
    }

    /// <summary>The job's row, or null when PostgreSQL has no such job.</summary>
    public async Task<JobRow?> FindAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {RowColumns} FROM jobs WHERE id = @job_id");
        command.Parameters.AddWithValue("job_id", jobId);
        return (await ReadRowsAsync(command, cancellationToken)) is [var row] ? row : null;
    }

    /// <summary>
    /// A queued job that cannot be delivered because its row cannot be read becomes a dead letter
    /// (its order failed) with the reason, instead of being retried forever.
    /// </summary>
    public async Task<bool> DeadLetterAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH job AS (
                UPDATE jobs
                SET status = @dead, error = @error, lease_expires_at = NULL, updated_at = now(), completed_at = now()
                WHERE id = @job_id AND status = @queued
                RETURNING order_id
            ), failed_order AS (
                UPDATE orders SET status = @failed, updated_at = now()
                FROM job WHERE orders.id = job.order_id AND orders.status = @pending
            )
            SELECT count(*) FROM job
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("error", reason);
        command.Parameters.AddWithValue("dead", JobStatus.Dead);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("failed", OrderStatus.Failed);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    private static async Task<IReadOnlyList<JobRow>> ReadRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<JobRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }
        return rows;
    }

    private static JobRow ReadRow(DbDataReader row)
    {
        var (jobId, status) = (row.GetGuid(0), row.GetString(6));
        try
        {
            var message = JobMessage.FromRow(row);
            // A priority this worker does not know (a newer producer's) is still delivered, as normal:
            // pushed to a list no worker reads, the job would never run.
            return new JobRow(jobId, status, JobPriority.IsValid(message.Priority) ? message : message with { Priority = JobPriority.Normal }, null);
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException)
        {
            return new JobRow(jobId, status, null, $"Its row cannot be read: {ex.Message}");
        }
    }
}
