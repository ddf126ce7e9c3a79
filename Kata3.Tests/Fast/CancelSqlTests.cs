using Kata3.Api.Data;
using Kata3.Api.Operations;
using Kata3.Contracts;
using Kata3.Worker.Jobs;

namespace Kata3.Tests.Fast;

/// <summary>
/// An operator's cancel against real PostgreSQL: the API's statement in each state a job can be
/// in, and the worker's side of it (claim refusing, the running attempt recording the cancel,
/// renewal reporting it, a failure, release or lapsed lease ending cancelled instead of queued).
/// </summary>
[Collection(FastDatabase.Collection)]
[Trait("Category", "Fast")]
public sealed class CancelSqlTests(FastDatabase db) : ReplicaPairTests(db, "fast-cancel-a", "fast-cancel-b")
{
    private CancelStore Cancels => new(Db.DataSource);

    [Fact]
    public async Task QueuedJobIsCancelledWithItsOrderAndNeverClaimed()
    {
        var order = await Db.InsertOrderAsync();

        var outcome = await Cancels.CancelAsync(order.OrderId, default);

        Assert.Equal(new CancelOutcome(CancelResult.Cancelled, order.OrderId, order.JobId, JobStatus.Cancelled), outcome);
        await AssertCancelledAsync(order.OrderId, attempts: 0);
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(A, order.JobId));
        Assert.Empty((await Db.DetailsAsync(order.OrderId)).Job!.History);
    }

    [Fact]
    public async Task JobWaitingForItsRetryIsCancelled()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await A.FailAsync(order.JobId, 1, AttemptOutcome.Failed, dead: false, "boom", TimeSpan.FromMinutes(10), default);

        Assert.Equal(CancelResult.Cancelled, (await Cancels.CancelAsync(order.OrderId, default)).Result);

        var job = await AssertCancelledAsync(order.OrderId, attempts: 1);
        Assert.Equal(AttemptOutcome.Failed, Assert.Single(job.History).Outcome);
        Assert.Null(job.NextAttemptAt);
    }

    [Fact]
    public async Task ScheduledJobIsCancelledWithItsOrder()
    {
        var order = await Db.InsertOrderAsync();
        await ExecuteAsync("""
            UPDATE jobs SET status = 'scheduled', run_at = now() + interval '1 hour' WHERE id = @job_id;
            UPDATE orders SET status = 'scheduled' WHERE id = @order_id
            """, order.JobId, order.OrderId);

        Assert.Equal(CancelResult.Cancelled, (await Cancels.CancelAsync(order.OrderId, default)).Result);

        await AssertCancelledAsync(order.OrderId, attempts: 0);
    }

    [Fact]
    public async Task FinishedJobsAndUnknownOrdersAreLeftAlone()
    {
        var completed = await Db.InsertOrderAsync();
        await ClaimAsync(A, completed.JobId);
        await A.CompleteAsync(completed.JobId, 1, default).WaitAsync(Timeout);
        var cancelled = await Db.InsertOrderAsync();
        await Cancels.CancelAsync(cancelled.OrderId, default);
        var before = await Db.DetailsAsync(completed.OrderId);

        Assert.Equal(new CancelOutcome(CancelResult.Finished, completed.OrderId, completed.JobId, JobStatus.Completed),
            await Cancels.CancelAsync(completed.OrderId, default));
        Assert.Equal(new CancelOutcome(CancelResult.Finished, cancelled.OrderId, cancelled.JobId, JobStatus.Cancelled),
            await Cancels.CancelAsync(cancelled.OrderId, default));
        var unknown = Guid.CreateVersion7();
        Assert.Equal(CancelResult.NotFound, (await Cancels.CancelAsync(unknown, default)).Result);

        var after = await Db.DetailsAsync(completed.OrderId);
        Assert.Equal((before.Status, before.UpdatedAt, before.Job!.Status), (after.Status, after.UpdatedAt, after.Job!.Status));
        Assert.Null(await CancelRequestedAtAsync(completed.JobId));
    }

    [Fact]
    public async Task ProcessingJobIsOnlyAskedToStopOnceAndItsRenewalSaysSo()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);

        Assert.Equal(new CancelOutcome(CancelResult.Cancelling, order.OrderId, order.JobId, JobStatus.Processing),
            await Cancels.CancelAsync(order.OrderId, default));
        var requestedAt = await CancelRequestedAtAsync(order.JobId);
        Assert.NotNull(requestedAt);
        Assert.Equal(CancelResult.Cancelling, (await Cancels.CancelAsync(order.OrderId, default)).Result);

        Assert.Equal(requestedAt, await CancelRequestedAtAsync(order.JobId));
        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Pending, JobStatus.Processing), (details.Status, details.Job!.Status));
        var renewal = await A.RenewLeasesAsync([(order.JobId, 1)], Lease, default);
        Assert.Equal([order.JobId], renewal.Held);
        Assert.Equal([order.JobId], renewal.CancelRequested);
    }

    [Fact]
    public async Task RunningAttemptRecordsTheCancelOnJobAttemptAndOrder()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await Cancels.CancelAsync(order.OrderId, default);

        Assert.False(await B.CancelAsync(order.JobId, 1, default), "another replica recorded the holder's cancel");
        Assert.True(await A.CancelAsync(order.JobId, 1, default));

        var job = await AssertCancelledAsync(order.OrderId, attempts: 1);
        var attempt = Assert.Single(job.History);
        Assert.Equal((AttemptOutcome.Cancelled, Cancellation.JobError), (attempt.Outcome, attempt.Error));
        Assert.NotNull(attempt.FinishedAt);
        Assert.Null((await Db.TimesAsync(order.JobId)).LeaseExpiresAt);
        Assert.False(await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout), "a cancelled job was completed");
    }

    [Fact]
    public async Task FailureOrReleaseOfACancelRequestedJobEndsItCancelledNotQueued()
    {
        var failed = await Db.InsertOrderAsync();
        var released = await Db.InsertOrderAsync();
        await ClaimAsync(A, failed.JobId);
        await ClaimAsync(A, released.JobId);
        await Cancels.CancelAsync(failed.OrderId, default);
        await Cancels.CancelAsync(released.OrderId, default);

        Assert.True(await A.FailAsync(failed.JobId, 1, AttemptOutcome.TimedOut, dead: false, "too slow", TimeSpan.Zero, default));
        Assert.True(await A.ReleaseAsync(released.JobId, 1, default));

        Assert.Equal(AttemptOutcome.TimedOut, Assert.Single((await AssertCancelledAsync(failed.OrderId, attempts: 1)).History).Outcome);
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single((await AssertCancelledAsync(released.OrderId, attempts: 1)).History).Outcome);
    }

    [Fact]
    public async Task LapsedLeaseOfACancelRequestedJobIsNeitherClaimedNorRequeuedButCancelled()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await Cancels.CancelAsync(order.OrderId, default);
        await Db.LetLeaseLapseAsync(order.JobId);

        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(B, order.JobId));
        var (_, cancelled) = await new SweepStore(Db.DataSource).RequeueExpiredLeasesAsync(limit: 1000, default);

        Assert.True(cancelled >= 1, $"the sweep cancelled {cancelled} job(s)");
        var job = await AssertCancelledAsync(order.OrderId, attempts: 1);
        Assert.Equal(AttemptOutcome.Abandoned, Assert.Single(job.History).Outcome);
        Assert.Empty(await new SweepStore(Db.DataSource).StillDueAsync([order.JobId], default));
    }

    [Fact]
    public async Task QueuedJobWithACancelRequestIsNotClaimed()
    {
        var order = await Db.InsertOrderAsync();
        await ExecuteAsync("UPDATE jobs SET cancel_requested_at = now() WHERE id = @job_id", order.JobId, order.OrderId);

        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(A, order.JobId));
        Assert.Equal(JobStatus.Queued, (await Db.DetailsAsync(order.OrderId)).Job!.Status);
    }

    [Fact]
    public async Task OperatorRetryOfADeadJobForgetsAnEarlierCancelRequest()
    {
        await using var oneAttempt = Db.Replica("fast-cancel-one", Lease, maxAttempts: 1);
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(oneAttempt, order.JobId);
        await Cancels.CancelAsync(order.OrderId, default);
        // It died before the cancel reached it: dead it stays.
        Assert.True(await oneAttempt.FailAsync(order.JobId, 1, AttemptOutcome.Dead, dead: true, "gone", TimeSpan.Zero, default));
        Assert.Equal(JobStatus.Dead, (await Db.DetailsAsync(order.OrderId)).Job!.Status);

        await new JobAdminStore(Db.DataSource, Db.Pools).RequeueDeadAsync(order.JobId, default);

        Assert.Null(await CancelRequestedAtAsync(order.JobId));
        Assert.Equal(2, (await ClaimAsync(A, order.JobId)).Job?.Attempt);
    }

    /// <summary>Order and job cancelled, with the cancel's error and finish time; returns the job.</summary>
    private async Task<Api.Apis.JobDetails> AssertCancelledAsync(Guid orderId, int attempts)
    {
        var details = await Db.DetailsAsync(orderId);
        Assert.Equal((OrderStatus.Cancelled, JobStatus.Cancelled, Cancellation.JobError, attempts),
            (details.Status, details.Job!.Status, details.Job.Error, details.Job.Attempts));
        Assert.NotNull(details.Job.CompletedAt);
        Assert.Null(details.CompletedAt);
        return details.Job;
    }

    private async Task<DateTimeOffset?> CancelRequestedAtAsync(Guid jobId)
    {
        await using var command = Db.DataSource.CreateCommand("SELECT cancel_requested_at FROM jobs WHERE id = @job_id");
        command.Parameters.AddWithValue("job_id", jobId);
        return await command.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    private async Task ExecuteAsync(string sql, Guid jobId, Guid orderId)
    {
        await using var command = Db.DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("order_id", orderId);
        await command.ExecuteNonQueryAsync();
    }
}
