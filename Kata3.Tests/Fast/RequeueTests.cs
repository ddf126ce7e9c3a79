using Kata3.Api.Data;
using Kata3.Contracts;
using Kata3.Worker.Jobs;

namespace Kata3.Tests.Fast;

/// <summary>
/// The two ways a job goes back to queued from outside its attempt, against real PostgreSQL: the
/// sweeper's requeue of a lapsed lease and the operator's requeue of a dead job. Each rebuilds the
/// job's queue message from its row (JobMessage.FromRow), which must be the message the API pushed.
/// </summary>
[Collection(FastDatabase.Collection)]
[Trait("Category", "Fast")]
public sealed class RequeueTests(FastDatabase db)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task SweepRequeuesALapsedLeaseAndAbandonsItsAttempt()
    {
        await using var replica = db.Replica("fast-sweep", Lease);
        var order = await InsertTracedOrderAsync();
        await replica.ClaimAsync(order.JobId, default).WaitAsync(Timeout);
        await db.LetLeaseLapseAsync(order.JobId);
        var sweep = new SweepStore(db.DataSource);

        Assert.True((await sweep.RequeueExpiredLeasesAsync(limit: 1000, default)).Requeued >= 1);

        var job = (await db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((JobStatus.Queued, 1), (job.Status, job.Attempts));
        var attempt = Assert.Single(job.History);
        Assert.Equal(("fast-sweep", AttemptOutcome.Abandoned, "Its worker stopped renewing the lease."),
            (attempt.WorkerId, attempt.Outcome, attempt.Error));
        Assert.NotNull(attempt.FinishedAt);
        var times = await db.TimesAsync(order.JobId);
        Assert.Null(times.LeaseExpiresAt);
        Assert.True(times.RunAt <= times.Now, $"run_at {times.RunAt:O} is after now {times.Now:O}");

        var row = Assert.Single(await sweep.StillDueAsync([order.JobId], default));
        Assert.Equal((order.JobId, JobStatus.Queued, (string?)null), (row.JobId, row.Status, row.Unreadable));
        Assert.Equal(await PushedMessageAsync(order), row.Message);
    }

    [Fact]
    public async Task OperatorRequeueOfADeadJobGivesBackTheMessageToPush()
    {
        await using var replica = db.Replica("fast-requeue", Lease, maxAttempts: 1);
        var order = await InsertTracedOrderAsync();
        await replica.ClaimAsync(order.JobId, default).WaitAsync(Timeout);
        Assert.True(await replica.FailAsync(order.JobId, 1, AttemptOutcome.Dead, dead: true, "gone", TimeSpan.Zero, default));

        var requeued = await new JobAdminStore(db.DataSource, db.Pools).RequeueDeadAsync(order.JobId, default);

        Assert.Equal([await PushedMessageAsync(order)], requeued);
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Pending, JobStatus.Queued, (string?)null), (details.Status, details.Job!.Status, details.Job.Error));
    }

    /// <summary>A high-priority order that carries a trace context, so that every field of its message is set.</summary>
    private async Task<OrderToCreate> InsertTracedOrderAsync()
    {
        var order = FastRows.Order(priority: JobPriority.High) with
        {
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            TraceState = "vendor=value",
        };
        await db.Orders().InsertAsync([order], default);
        return order;
    }

    /// <summary>The message the API pushed for the order when it accepted it.</summary>
    private async Task<JobMessage> PushedMessageAsync(OrderToCreate order) =>
        new(JobMessage.CurrentVersion, order.JobId, order.OrderId, (await db.DetailsAsync(order.OrderId)).Job!.EnqueuedAt,
            order.TraceParent, order.TraceState, order.Order.Priority);
}
