using Kata3.Batching;
using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Kata3.Worker.Jobs;

/// <summary>A job this replica has claimed: which attempt it is, and what it was asked to simulate.</summary>
internal sealed record ClaimedJob(int Attempt, int MaxAttempts, int SimulateFailures);

/// <summary>A lease renewal's answer: the jobs still this replica's, and those of them an operator asked to cancel.</summary>
internal sealed record LeaseRenewal(HashSet<Guid> Held, HashSet<Guid> CancelRequested);

/// <summary>A claim's answer: the claimed job, or why not (the job is not claimable now, or PostgreSQL has no such job).</summary>
internal readonly record struct Claim(ClaimedJob? Job, bool JobExists);

/// <summary>
/// A job's attempts in PostgreSQL: claims one with a lease, records how it ended, renews the
/// leases of those in hand. Every change is conditional on the state it expects (status, attempt
/// and worker), so a late or duplicate delivery cannot undo a newer outcome.
/// </summary>
internal sealed class AttemptStore : IAsyncDisposable
{
    private const int MaxErrorLength = 2000;

    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _hotPath;
    private readonly WorkerIdentity _identity;
    private readonly IOptions<WorkerOptions> _options;
    private readonly GroupCommit<Guid, Claim> _claims;
    private readonly GroupCommit<(Guid, int), bool> _completions;

    public AttemptStore(NpgsqlDataSource dataSource, [FromKeyedServices(StoreClients.HotPath)] NpgsqlDataSource hotPath,
        WorkerIdentity identity, IOptions<WorkerOptions> options)
    {
        _dataSource = dataSource;
        _hotPath = hotPath;
        _identity = identity;
        _options = options;
        // One statement in flight per replica: the next batch gathers meanwhile, so batches grow
        // with the load and PostgreSQL plans and commits fewer of them.
        _claims = new GroupCommit<Guid, Claim>("claim jobs", ClaimBatchAsync, writers: 1);
        _completions = new GroupCommit<(Guid, int), bool>("complete jobs", CompleteBatchAsync, writers: 1);
    }

    public async ValueTask DisposeAsync()
    {
        await _claims.DisposeAsync();
        await _completions.DisposeAsync();
    }

    /// <summary>
    /// Claims the job for this replica with a lease: a queued job that is due, or one whose
    /// previous holder's lease ran out (that attempt is marked abandoned). No job when it is not
    /// claimable now (finished, leased by a live worker, waiting for a retry) or does not exist.
    /// Concurrent claims share one statement (group commit); the jobs of a batch that were not
    /// claimed are looked up together in one more.
    /// </summary>
    public Task<Claim> ClaimAsync(Guid jobId, CancellationToken cancellationToken) =>
        _claims.SubmitAsync(jobId, cancellationToken);

    private async Task<IReadOnlyList<Claim>> ClaimBatchAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken)
    {
        await using var command = _hotPath.CreateCommand($"""
            WITH input AS (
                SELECT DISTINCT id FROM unnest(@job_ids::uuid[]) AS i(id)
            ), claimed AS (
                UPDATE jobs
                SET status = @processing, attempts = attempts + 1, max_attempts = retry_base + @max_attempts,
                    started_at = now(), completed_at = NULL, worker_id = @worker_id,
                    lease_expires_at = now() + @lease, updated_at = now()
                FROM input
                WHERE jobs.id = input.id
                  -- A CASE, not an OR of the two states: with the OR the planner may join the batch
                  -- against every queued job through the partial indexes, the whole backlog per claim.
                  AND CASE jobs.status WHEN @queued THEN jobs.run_at <= now()
                                       WHEN @processing THEN jobs.lease_expires_at < now()
                                       ELSE false END
                  -- An operator's cancel is settled by the replica holding the job, or by the sweeper.
                  AND jobs.cancel_requested_at IS NULL
                RETURNING jobs.id, jobs.attempts, jobs.max_attempts, jobs.simulate_failures
            ), {AbandonLapsedAttempt("claimed", "claimed.attempts - 1")}, attempt AS (
                INSERT INTO job_attempts (job_id, attempt, worker_id)
                SELECT id, attempts, @worker_id FROM claimed
            )
            SELECT id, attempts, max_attempts, simulate_failures FROM claimed
            """);
        command.Parameters.AddWithValue("job_ids", jobIds.ToArray());
        command.Parameters.AddWithValue("worker_id", _identity.Id);
        command.Parameters.AddWithValue("lease", _options.Value.LeaseDuration);
        command.Parameters.AddWithValue("max_attempts", _options.Value.Retry.MaxAttempts);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("abandoned", AttemptOutcome.Abandoned);

        var claims = new Dictionary<Guid, Claim>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                claims[reader.GetGuid(0)] = new Claim(new ClaimedJob(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)), JobExists: true);
            }
        }
        // Rarely (a duplicate or late delivery, a poison message) a job was not claimed: is there
        // such a job at all? The claims above are committed, so this lookup must not fail them.
        if (jobIds.Where(id => !claims.ContainsKey(id)).Distinct().ToArray() is { Length: > 0 } unclaimed)
        {
            var existing = await ExistingJobsAsync(unclaimed, cancellationToken);
            foreach (var id in unclaimed)
            {
                claims[id] = new Claim(Job: null, JobExists: existing?.Contains(id) ?? true);
            }
        }
        // A duplicate delivery in the same batch claims once: only its first mention gets the claim.
        return jobIds.Select(id =>
        {
            var claim = claims[id];
            claims[id] = claim with { Job = null };
            return claim;
        }).ToList();
    }

    /// <summary>
    /// The CTE "abandoned", which closes the attempt whose lease lapsed: for each job of the CTE
    /// <paramref name="jobs"/> (by its id), the attempt numbered <paramref name="attempt"/> if it is
    /// still open. The one definition for both ways a lapsed lease ends, a claim that takes the job
    /// over and the sweeper's requeue; the statement passes @abandoned.
    /// </summary>
    internal static string AbandonLapsedAttempt(string jobs, string attempt) => $"""
        abandoned AS (
            UPDATE job_attempts
            SET finished_at = now(), outcome = @abandoned, error = 'Its worker stopped renewing the lease.'
            FROM {jobs}
            WHERE job_attempts.job_id = {jobs}.id AND job_attempts.attempt = {attempt}
              AND job_attempts.outcome IS NULL
        )
        """;

    /// <summary>Which of these jobs exist; null when PostgreSQL could not say (then none is taken for poison).</summary>
    private async Task<HashSet<Guid>?> ExistingJobsAsync(Guid[] jobIds, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT id FROM jobs WHERE id = ANY(@job_ids)");
            command.Parameters.AddWithValue("job_ids", jobIds);
            var existing = new HashSet<Guid>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                existing.Add(reader.GetGuid(0));
            }
            return existing;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>
    /// Completes job, attempt and order in one statement (concurrent completions share it);
    /// false when this attempt no longer owns the job.
    /// </summary>
    public Task<bool> CompleteAsync(Guid jobId, int attempt, CancellationToken cancellationToken) =>
        _completions.SubmitAsync((jobId, attempt), cancellationToken);

    private async Task<IReadOnlyList<bool>> CompleteBatchAsync(IReadOnlyList<(Guid JobId, int Attempt)> jobs,
        CancellationToken cancellationToken)
    {
        await using var command = _hotPath.CreateCommand("""
            WITH input AS (
                SELECT * FROM unnest(@job_ids::uuid[], @attempts::int[]) AS i(id, attempt)
            ), job AS (
                UPDATE jobs
                SET status = @completed, error = NULL, lease_expires_at = NULL, updated_at = now(), completed_at = now()
                FROM input
                WHERE jobs.id = input.id AND jobs.status = @processing AND jobs.attempts = input.attempt
                  AND jobs.worker_id = @worker_id
                RETURNING jobs.id, jobs.order_id, jobs.attempts, jobs.completed_at
            ), attempt AS (
                UPDATE job_attempts
                SET finished_at = job.completed_at, outcome = @outcome, error = NULL
                FROM job
                WHERE job_attempts.job_id = job.id AND job_attempts.attempt = job.attempts
            ), finished_order AS (
                UPDATE orders
                SET status = @order_completed, updated_at = now(), completed_at = job.completed_at
                FROM job
                WHERE orders.id = job.order_id AND orders.status = @pending
            )
            SELECT id FROM job
            """);
        command.Parameters.AddWithValue("job_ids", jobs.Select(j => j.JobId).ToArray());
        command.Parameters.AddWithValue("attempts", jobs.Select(j => j.Attempt).ToArray());
        command.Parameters.AddWithValue("worker_id", _identity.Id);
        command.Parameters.AddWithValue("completed", JobStatus.Completed);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("outcome", AttemptOutcome.Completed);
        command.Parameters.AddWithValue("order_completed", OrderStatus.Completed);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);

        var completed = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            completed.Add(reader.GetGuid(0));
        }
        return jobs.Select(j => completed.Contains(j.JobId)).ToList();
    }

    /// <summary>
    /// Records a failed attempt (<paramref name="outcome"/> says how it failed): queued again after
    /// <paramref name="retryDelay"/>, or dead (order failed).
    /// </summary>
    public Task<bool> FailAsync(Guid jobId, int attempt, string outcome, bool dead, string error, TimeSpan retryDelay,
        CancellationToken cancellationToken) =>
        dead
            ? FinishAsync(jobId, attempt, JobStatus.Dead, outcome, OrderStatus.Failed, error, TimeSpan.Zero, cancellationToken)
            : FinishAsync(jobId, attempt, JobStatus.Queued, outcome, orderStatus: null, error, retryDelay, cancellationToken);

    /// <summary>Hands an unfinished job back (this replica is stopping): queued and due at once.</summary>
    public Task<bool> ReleaseAsync(Guid jobId, int attempt, CancellationToken cancellationToken) =>
        FinishAsync(jobId, attempt, JobStatus.Queued, AttemptOutcome.Interrupted, orderStatus: null,
            "The worker stopped before the job finished; handed back to the queue.", TimeSpan.Zero, cancellationToken);

    /// <summary>Ends a running attempt at an operator's request: attempt, job and order cancelled.</summary>
    public Task<bool> CancelAsync(Guid jobId, int attempt, CancellationToken cancellationToken) =>
        FinishAsync(jobId, attempt, JobStatus.Cancelled, AttemptOutcome.Cancelled, OrderStatus.Cancelled,
            Cancellation.JobError, TimeSpan.Zero, cancellationToken);

    /// <summary>
    /// Extends the leases this replica still holds: the job is processing under this replica and
    /// this attempt, and its lease has not lapsed. Returns the jobs it holds, and which of them an
    /// operator asked to cancel (the fallback for a lost cancel message); any other job in hand is
    /// lost (taken over, requeued, or about to be) and its work must stop.
    /// </summary>
    public async Task<LeaseRenewal> RenewLeasesAsync(IReadOnlyCollection<(Guid JobId, int Attempt)> jobs, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        var renewal = new LeaseRenewal([], []);
        if (jobs.Count == 0)
        {
            return renewal;
        }
        await using var command = _dataSource.CreateCommand("""
            WITH input AS (
                SELECT * FROM unnest(@job_ids::uuid[], @attempts::int[]) AS i(id, attempt)
            ), held AS (
                -- A lapsed lease is lost even when nobody has taken the job yet: the sweeper may
                -- requeue it at any moment, and a lease revived after that would be a second licence.
                SELECT jobs.id, jobs.cancel_requested_at IS NOT NULL AS cancel_requested
                FROM jobs JOIN input ON jobs.id = input.id
                WHERE jobs.attempts = input.attempt AND jobs.worker_id = @worker_id
                  AND jobs.status = @processing AND jobs.lease_expires_at > now()
            ), renewed AS (
                UPDATE jobs SET lease_expires_at = now() + @lease
                WHERE id IN (
                    -- Skip rows a claim or completion holds right now: waiting on them while holding
                    -- others can deadlock with the completion batch; the next renewal gets them.
                    -- Locking rechecks these conditions on the row's latest version.
                    SELECT jobs.id FROM jobs JOIN input ON jobs.id = input.id
                    WHERE jobs.attempts = input.attempt AND jobs.worker_id = @worker_id
                      AND jobs.status = @processing AND jobs.lease_expires_at > now()
                    FOR UPDATE OF jobs SKIP LOCKED)
            )
            SELECT id, cancel_requested FROM held
            """);
        command.Parameters.AddWithValue("job_ids", jobs.Select(j => j.JobId).ToArray());
        command.Parameters.AddWithValue("attempts", jobs.Select(j => j.Attempt).ToArray());
        command.Parameters.AddWithValue("lease", lease);
        command.Parameters.AddWithValue("worker_id", _identity.Id);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            renewal.Held.Add(reader.GetGuid(0));
            if (reader.GetBoolean(1))
            {
                renewal.CancelRequested.Add(reader.GetGuid(0));
            }
        }
        return renewal;
    }

    // A failed, released or cancelled attempt; completions go through the batched CompleteBatchAsync.
    // A job an operator asked to cancel is not queued again (no claim would take it): it ends cancelled.
    private async Task<bool> FinishAsync(Guid jobId, int attempt, string jobStatus, string outcome, string? orderStatus,
        string? error, TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            WITH job AS (
                UPDATE jobs
                SET status = CASE WHEN @job_status = @queued AND cancel_requested_at IS NOT NULL THEN @cancelled ELSE @job_status END,
                    error = CASE WHEN @job_status = @queued AND cancel_requested_at IS NOT NULL THEN @cancelled_error ELSE @error END,
                    lease_expires_at = NULL, updated_at = now(), run_at = now() + @retry_delay,
                    completed_at = CASE WHEN @job_status <> @queued OR cancel_requested_at IS NOT NULL THEN now() END
                WHERE id = @job_id AND status = @processing AND attempts = @attempt AND worker_id = @worker_id
                RETURNING id, order_id, status
            ), attempt AS (
                UPDATE job_attempts
                SET finished_at = now(), outcome = @outcome, error = @error
                FROM job
                WHERE job_attempts.job_id = job.id AND job_attempts.attempt = @attempt
            ), finished_order AS (
                UPDATE orders
                SET status = CASE WHEN job.status = @cancelled THEN @order_cancelled ELSE @order_status END, updated_at = now()
                FROM job
                WHERE (@order_status IS NOT NULL OR job.status = @cancelled) AND orders.id = job.order_id AND orders.status = @pending
            )
            SELECT count(*) FROM job
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("attempt", attempt);
        command.Parameters.AddWithValue("worker_id", _identity.Id);
        command.Parameters.AddWithValue("job_status", jobStatus);
        command.Parameters.AddWithValue("outcome", outcome);
        command.Parameters.Add(new NpgsqlParameter<string?>("order_status", NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = orderStatus });
        command.Parameters.Add(new NpgsqlParameter<string?>("error", NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = StorableText.From(error, MaxErrorLength) });
        command.Parameters.AddWithValue("retry_delay", retryDelay);
        command.Parameters.AddWithValue("processing", JobStatus.Processing);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("cancelled", JobStatus.Cancelled);
        command.Parameters.AddWithValue("cancelled_error", Cancellation.JobError);
        command.Parameters.AddWithValue("order_cancelled", OrderStatus.Cancelled);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);

        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }
}
