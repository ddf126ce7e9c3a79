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
    private const string RowColumns = $"{JobMessage.RowColumns}, status";

    /// <summary>
    /// Jobs whose worker stopped renewing the lease go back to queued (the attempt is abandoned);
    /// one an operator asked to cancel ends cancelled instead, with its order. Returns how many of each.
    /// </summary>
    public async Task<(int Requeued, int Cancelled)> RequeueExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH expired AS (
                SELECT id, cancel_requested_at IS NOT NULL AS cancel FROM jobs
                WHERE status = @processing AND lease_expires_at < now()
                ORDER BY lease_expires_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED
            ), requeued AS (
                UPDATE jobs
                SET status = CASE WHEN expired.cancel THEN @cancelled ELSE @queued END,
                    error = CASE WHEN expired.cancel THEN @cancelled_error ELSE jobs.error END,
                    completed_at = CASE WHEN expired.cancel THEN now() END,
                    run_at = now(), lease_expires_at = NULL, updated_at = now()
                FROM expired WHERE jobs.id = expired.id
                RETURNING jobs.id, jobs.attempts, jobs.order_id, expired.cancel
            ), {AttemptStore.AbandonLapsedAttempt("requeued", "requeued.attempts")}, cancelled_order AS (
                UPDATE orders SET status = @order_cancelled, updated_at = now()
                FROM requeued WHERE requeued.cancel AND orders.id = requeued.order_id AND orders.status = @pending
            )
            SELECT count(*) FILTER (WHERE NOT cancel), count(*) FILTER (WHERE cancel) FROM requeued
            """);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("cancelled", JobStatus.Cancelled);
        command.Parameters.AddWithValue("cancelled_error", Cancellation.JobError);
        command.Parameters.AddWithValue("order_cancelled", OrderStatus.Cancelled);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);
        command.Parameters.AddWithValue("abandoned", AttemptOutcome.Abandoned);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
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

    /// <summary>
    /// One page of the ids of all queued, due jobs (with the same grace as <see cref="DueJobsAsync"/>)
    /// whose run_at is after <paramref name="after"/>, in run_at order: keyset pagination, so every
    /// page is a range of the run_at index however long the backlog. Next is where the following
    /// page starts, or null when this was the last.
    /// </summary>
    public async Task<(IReadOnlyList<Guid> JobIds, DateTimeOffset? Next)> DueJobIdsAsync(
        DateTimeOffset after, int limit, TimeSpan grace, CancellationToken cancellationToken)
    {
        var page = new List<(DateTimeOffset RunAt, Guid JobId)>(limit);
        await using (var command = dataSource.CreateCommand("""
            SELECT run_at, id
            FROM jobs
            WHERE status = @queued AND run_at > @after AND run_at <= now() AND (attempts > 0 OR enqueued_at <= now() - @grace)
            ORDER BY run_at
            LIMIT @limit
            """))
        {
            command.Parameters.AddWithValue("queued", JobStatus.Queued);
            command.Parameters.AddWithValue("after", after);
            command.Parameters.AddWithValue("grace", grace);
            command.Parameters.AddWithValue("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                page.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetGuid(1)));
            }
        }
        var ids = page.Select(p => p.JobId).ToList();
        if (page.Count < limit)
        {
            return (ids, null);
        }

        // The limit may have cut off jobs of the page's last instant (one insert of many orders
        // shares one now()): take all of them, so the next page can start after that instant.
        var last = page[^1].RunAt;
        await using (var ties = dataSource.CreateCommand("""
            SELECT id
            FROM jobs
            WHERE status = @queued AND run_at = @last AND (attempts > 0 OR enqueued_at <= now() - @grace)
            """))
        {
            ties.Parameters.AddWithValue("queued", JobStatus.Queued);
            ties.Parameters.AddWithValue("last", last);
            ties.Parameters.AddWithValue("grace", grace);
            var inPage = page.Where(p => p.RunAt == last).Select(p => p.JobId).ToHashSet();
            await using var reader = await ties.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (!inPage.Contains(reader.GetGuid(0)))
                {
                    ids.Add(reader.GetGuid(0));
                }
            }
        }
        return (ids, last);
    }

    /// <summary>Of the given jobs, those still queued and due now, as messages to push.</summary>
    public async Task<IReadOnlyList<JobRow>> StillDueAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {RowColumns}
            FROM jobs
            WHERE id = ANY(@job_ids) AND status = @queued AND run_at <= now()
            """);
        command.Parameters.AddWithValue("job_ids", jobIds.ToArray());
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
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
