using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker.Jobs;

/// <summary>Scheduled jobs in PostgreSQL: queuing those whose start time has come.</summary>
internal sealed class ScheduleStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Queues up to <paramref name="limit"/> scheduled jobs that are due by PostgreSQL's clock (never
    /// early), oldest first, and makes their orders pending, in one statement. Replicas polling at
    /// once skip each other's rows. Their enqueued_at is now, so the sweeper's grace for a fresh
    /// job starts now too: a push that fails is made good by the sweeper after it.
    /// </summary>
    public async Task<IReadOnlyList<JobRow>> QueueDueAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH due AS (
                SELECT id AS due_id FROM jobs
                WHERE status = @scheduled AND run_at <= now()
                ORDER BY run_at, id
                LIMIT @limit
                FOR UPDATE SKIP LOCKED
            ), queued AS (
                UPDATE jobs SET status = @queued, enqueued_at = now(), updated_at = now()
                FROM due WHERE jobs.id = due.due_id
                RETURNING {SweepStore.RowColumns}
            ), pending AS (
                UPDATE orders SET status = @pending, updated_at = now()
                FROM queued WHERE orders.id = queued.order_id AND orders.status = @order_scheduled
            )
            SELECT {SweepStore.RowColumns} FROM queued
            """);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("scheduled", JobStatus.Scheduled);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);
        command.Parameters.AddWithValue("order_scheduled", OrderStatus.Scheduled);
        return await SweepStore.ReadRowsAsync(command, cancellationToken);
    }
}
