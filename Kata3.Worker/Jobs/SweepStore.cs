using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker.Jobs;

/// <summary>The sweeper's questions to PostgreSQL, the source of truth for what must still run.</summary>
internal sealed class SweepStore(NpgsqlDataSource dataSource)
{
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
    public async Task<IReadOnlyList<JobMessage>> DueJobsAsync(int limit, TimeSpan grace, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, order_id, enqueued_at, trace_parent, trace_state, priority
            FROM jobs
            WHERE status = @queued AND run_at <= now() AND (attempts > 0 OR enqueued_at <= now() - @grace)
            ORDER BY run_at
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("grace", grace);
        command.Parameters.AddWithValue("limit", limit);

        var due = new List<JobMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(JobMessage.FromRow(reader));
        }
        return due;
    }
}
