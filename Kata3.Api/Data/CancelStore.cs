using Kata3.Api.Operations;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>An operator's cancel, in PostgreSQL: what the order's job is, and the change that follows from it.</summary>
internal sealed class CancelStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// In one transaction: a job that has not started (queued, waiting for a retry, scheduled) is
    /// cancelled with its order; a processing one gets cancel_requested_at (kept from a first
    /// request); a finished one is left as it is.
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The job's row is locked first, so the status decided on is the one changed: a claim, a
        // completion or the scheduler waits for this transaction, then finds the job cancelled.
        await using var find = new NpgsqlCommand("""
            SELECT jobs.id, jobs.status
            FROM jobs
            WHERE jobs.id = (SELECT job_id FROM orders WHERE id = @order_id)
            FOR UPDATE
            """, connection, transaction);
        find.Parameters.AddWithValue("order_id", orderId);
        Guid jobId;
        string status;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new CancelOutcome(CancelResult.NotFound, orderId, Guid.Empty, null);
            }
            (jobId, status) = (reader.GetGuid(0), reader.GetString(1));
        }

        switch (status)
        {
            case JobStatus.Queued or JobStatus.Scheduled:
                await ExecuteAsync(connection, transaction, """
                    WITH job AS (
                        UPDATE jobs
                        SET status = @cancelled, error = @error, lease_expires_at = NULL, completed_at = now(), updated_at = now()
                        WHERE id = @job_id
                    )
                    UPDATE orders SET status = @order_cancelled, updated_at = now() WHERE id = @order_id
                    """, jobId, orderId, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new CancelOutcome(CancelResult.Cancelled, orderId, jobId, JobStatus.Cancelled);
            case JobStatus.Processing:
                await ExecuteAsync(connection, transaction,
                    "UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = @job_id",
                    jobId, orderId, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new CancelOutcome(CancelResult.Cancelling, orderId, jobId, JobStatus.Processing);
            default:
                return new CancelOutcome(CancelResult.Finished, orderId, jobId, status);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        Guid jobId, Guid orderId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("order_id", orderId);
        command.Parameters.AddWithValue("cancelled", JobStatus.Cancelled);
        command.Parameters.AddWithValue("order_cancelled", OrderStatus.Cancelled);
        command.Parameters.AddWithValue("error", Cancellation.JobError);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
