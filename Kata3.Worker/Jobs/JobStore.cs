using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Records a job's progress in PostgreSQL. Every change is conditional on the state it expects
/// (status and attempt number), so a late or duplicate delivery cannot undo a newer outcome.
/// </summary>
internal sealed class JobStore(NpgsqlDataSource dataSource)
{
    private const int MaxErrorLength = 2000;

    /// <summary>Marks the job processing by this worker; the new attempt number, or null when the job is unknown or finished.</summary>
    public async Task<int?> StartAsync(Guid jobId, string workerId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs
            SET status = @processing, attempts = attempts + 1, started_at = now(), completed_at = NULL,
                worker_id = @worker_id, error = NULL, updated_at = now()
            WHERE id = @job_id AND status IN (@queued, @processing)
            RETURNING attempts
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("worker_id", workerId);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);

        return (int?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Completes job and order in one statement (one transaction); false when this attempt no longer owns the job.</summary>
    public Task<bool> CompleteAsync(Guid jobId, int attempt, CancellationToken cancellationToken) =>
        FinishAsync(jobId, attempt, JobStatus.Completed, OrderStatus.Completed, error: null, cancellationToken);

    /// <summary>Records a failed attempt on the job and fails the order.</summary>
    public Task<bool> FailAsync(Guid jobId, int attempt, string error, CancellationToken cancellationToken) =>
        FinishAsync(jobId, attempt, JobStatus.Failed, OrderStatus.Failed,
            error.Length > MaxErrorLength ? error[..MaxErrorLength] : error, cancellationToken);

    private async Task<bool> FinishAsync(Guid jobId, int attempt, string jobStatus, string orderStatus, string? error,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH job AS (
                UPDATE jobs
                SET status = @job_status, error = @error, completed_at = now(), updated_at = now()
                WHERE id = @job_id AND status = @processing AND attempts = @attempt
                RETURNING order_id, completed_at
            )
            UPDATE orders
            SET status = @order_status, updated_at = now(),
                completed_at = CASE WHEN @order_status = @order_completed THEN job.completed_at END
            FROM job
            WHERE orders.id = job.order_id AND orders.status = @pending
            RETURNING orders.id
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("attempt", attempt);
        command.Parameters.AddWithValue("job_status", jobStatus);
        command.Parameters.AddWithValue("order_status", orderStatus);
        command.Parameters.AddWithValue("order_completed", OrderStatus.Completed);
        command.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);

        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
