using Kata3.Contracts;
using Kata3.Worker.Jobs;
using WorkerStore = Kata3.Worker.Jobs.AttemptStore;

namespace Kata3.Tests.Fast;

/// <summary>
/// The worker's statements on a job (claim, complete, fail, release, renew) against real
/// PostgreSQL, two replicas "a" and "b" side by side: each transition, and that every write is
/// conditional on the attempt that makes it.
/// </summary>
[Collection(FastDatabase.Collection)]
[Trait("Category", "Fast")]
public sealed class JobStateMachineTests(FastDatabase db) : ReplicaPairTests(db, "fast-a", "fast-b")
{
    [Fact]
    public async Task ClaimMakesAQueuedJobProcessingUnderALeaseWithAnAttemptRow()
    {
        var order = await Db.InsertOrderAsync();

        var claim = await ClaimAsync(A, order.JobId);

        Assert.Equal(new Claim(new ClaimedJob(Attempt: 1, MaxAttempts: 5, SimulateFailures: 0), JobExists: true), claim);
        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Pending, details.Status);
        Assert.Equal((JobStatus.Processing, 1, (int?)5, "fast-a"), (details.Job!.Status, details.Job.Attempts, details.Job.MaxAttempts, details.Job.WorkerId));
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((1, "fast-a", (string?)null, (DateTimeOffset?)null), (attempt.Attempt, attempt.WorkerId, attempt.Outcome, attempt.FinishedAt));
        var times = await Db.TimesAsync(order.JobId);
        Assert.InRange(times.LeaseExpiresAt!.Value, times.Now, times.Now + Lease);
    }

    [Fact]
    public async Task ClaimOfAnUnknownJobSaysThereIsNone()
    {
        Assert.Equal(new Claim(null, JobExists: false), await ClaimAsync(A, Guid.CreateVersion7()));
    }

    [Fact]
    public async Task JobLeasedByALiveReplicaIsNotClaimedByAnother()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);

        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(B, order.JobId));

        var job = (await Db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((1, "fast-a"), (job.Attempts, job.WorkerId));
        Assert.Single(job.History);
    }

    [Fact]
    public async Task TwoDeliveriesOfOneJobAtOnceClaimItOnce()
    {
        var order = await Db.InsertOrderAsync();

        // Submitted together they may share one statement or not: either way one claim.
        var claims = await Task.WhenAll(A.ClaimAsync(order.JobId, default), A.ClaimAsync(order.JobId, default)).WaitAsync(Timeout);

        Assert.Single(claims, c => c.Job is not null);
        Assert.All(claims, c => Assert.True(c.JobExists));
        Assert.Single((await Db.DetailsAsync(order.OrderId)).Job!.History);
    }

    [Fact]
    public async Task ConcurrentClaimsAndCompletionsEachReachTheirOwnJob()
    {
        var orders = Enumerable.Range(0, 20).Select(i => FastRows.Order(product: $"batch {i}")).ToList();
        await Db.Orders().InsertAsync(orders, default);

        var claims = await Task.WhenAll(orders.Select(o => A.ClaimAsync(o.JobId, default))).WaitAsync(Timeout);
        Assert.All(claims, c => Assert.Equal(1, c.Job?.Attempt));
        var completed = await Task.WhenAll(orders.Select(o => A.CompleteAsync(o.JobId, 1, default))).WaitAsync(Timeout);

        Assert.All(completed, Assert.True);
        foreach (var order in orders)
        {
            var details = await Db.DetailsAsync(order.OrderId);
            Assert.Equal((OrderStatus.Completed, JobStatus.Completed), (details.Status, details.Job!.Status));
        }
    }

    [Fact]
    public async Task CompletionCompletesJobAttemptAndOrderTogether()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);

        Assert.True(await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));

        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Completed, details.Status);
        Assert.Equal(JobStatus.Completed, details.Job!.Status);
        Assert.NotNull(details.Job.CompletedAt);
        Assert.Equal(details.Job.CompletedAt, details.CompletedAt);
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((AttemptOutcome.Completed, details.Job.CompletedAt), (attempt.Outcome, attempt.FinishedAt));
        Assert.Null((await Db.TimesAsync(order.JobId)).LeaseExpiresAt);
    }

    [Fact]
    public async Task CompletedJobIsNeitherCompletedAgainNorClaimed()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout);
        var before = await Db.DetailsAsync(order.OrderId);

        Assert.False(await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(B, order.JobId));

        var after = await Db.DetailsAsync(order.OrderId);
        Assert.Equal((before.UpdatedAt, before.Job!.CompletedAt, 1), (after.UpdatedAt, after.Job!.CompletedAt, after.Job.Attempts));
    }

    [Fact]
    public async Task FailureToBeRetriedQueuesTheJobForLater()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);

        Assert.True(await A.FailAsync(order.JobId, 1, AttemptOutcome.Failed, dead: false, "boom", TimeSpan.FromMinutes(10), default));

        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Pending, details.Status);
        Assert.Equal((JobStatus.Queued, "boom"), (details.Job!.Status, details.Job.Error));
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((AttemptOutcome.Failed, "boom"), (attempt.Outcome, attempt.Error));
        Assert.NotNull(attempt.FinishedAt);
        var times = await Db.TimesAsync(order.JobId);
        Assert.Null(times.LeaseExpiresAt);
        Assert.InRange(times.RunAt, times.Now + TimeSpan.FromMinutes(9), times.Now + TimeSpan.FromMinutes(10));
        Assert.Equal(times.RunAt, details.Job.NextAttemptAt);
        // Not due yet: a delivery now claims nothing.
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(B, order.JobId));
    }

    [Fact]
    public async Task DueRetryIsClaimedAsTheNextAttempt()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await A.FailAsync(order.JobId, 1, AttemptOutcome.TimedOut, dead: false, "too slow", TimeSpan.Zero, default);

        Assert.Equal(2, (await ClaimAsync(B, order.JobId)).Job?.Attempt);

        var job = (await Db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((JobStatus.Processing, 2, "fast-b"), (job.Status, job.Attempts, job.WorkerId));
        Assert.Equal([(1, AttemptOutcome.TimedOut), (2, null)], job.History.Select(a => (a.Attempt, a.Outcome)));
    }

    [Fact]
    public async Task FailureOfTheLastAttemptKillsTheJobAndFailsTheOrder()
    {
        await using var twoAttempts = Db.Replica("fast-two-attempts", Lease, maxAttempts: 2);
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(twoAttempts, order.JobId);
        await twoAttempts.FailAsync(order.JobId, 1, AttemptOutcome.Failed, dead: false, "first", TimeSpan.Zero, default);

        var last = (await ClaimAsync(twoAttempts, order.JobId)).Job!;
        Assert.Equal((2, 2), (last.Attempt, last.MaxAttempts));
        Assert.True(await twoAttempts.FailAsync(order.JobId, 2, AttemptOutcome.Dead, dead: true, "second", TimeSpan.Zero, default));

        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Failed, details.Status);
        Assert.Equal((JobStatus.Dead, "second"), (details.Job!.Status, details.Job.Error));
        Assert.NotNull(details.Job.CompletedAt);
        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Dead], details.Job.History.Select(a => a.Outcome));
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(B, order.JobId));
    }

    [Fact]
    public async Task ReleaseHandsTheJobBackDueAtOnce()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);

        Assert.True(await A.ReleaseAsync(order.JobId, 1, default));

        var details = await Db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Pending, JobStatus.Queued), (details.Status, details.Job!.Status));
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single(details.Job.History).Outcome);
        var times = await Db.TimesAsync(order.JobId);
        Assert.True(times.RunAt <= times.Now, $"run_at {times.RunAt:O} is after now {times.Now:O}");
        Assert.Equal(2, (await ClaimAsync(B, order.JobId)).Job?.Attempt);
    }

    [Fact]
    public async Task LapsedLeaseIsClaimedAgainAndTheOldAttemptAbandoned()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await Db.LetLeaseLapseAsync(order.JobId);

        Assert.Equal(2, (await ClaimAsync(B, order.JobId)).Job?.Attempt);

        var job = (await Db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((JobStatus.Processing, "fast-b"), (job.Status, job.WorkerId));
        Assert.Equal(
            [(1, "fast-a", AttemptOutcome.Abandoned, true), (2, "fast-b", null, false)],
            job.History.Select(a => (a.Attempt, a.WorkerId, a.Outcome, a.FinishedAt is not null)));
        var times = await Db.TimesAsync(order.JobId);
        Assert.True(times.LeaseExpiresAt > times.Now, "the new attempt has no live lease");
    }

    [Fact]
    public async Task SupersededAttemptWritesNothing()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await Db.LetLeaseLapseAsync(order.JobId);
        await ClaimAsync(B, order.JobId);
        var before = await Db.DetailsAsync(order.OrderId);

        // Replica a, back from a freeze, tries every write of its attempt 1.
        await AssertEveryWriteRefusedAsync(A, order.JobId, attempt: 1);

        var after = await Db.DetailsAsync(order.OrderId);
        Assert.Equal(Summary(before), Summary(after));
        Assert.True(await B.CompleteAsync(order.JobId, 2, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task AnotherReplicaCannotWriteTheHoldersAttempt()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        var before = await Db.DetailsAsync(order.OrderId);

        await AssertEveryWriteRefusedAsync(B, order.JobId, attempt: 1);

        Assert.Equal(Summary(before), Summary(await Db.DetailsAsync(order.OrderId)));
        Assert.True(await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task RenewalExtendsLiveLeasesAndNeverRevivesALapsedOne()
    {
        var live = await Db.InsertOrderAsync();
        var lapsed = await Db.InsertOrderAsync();
        await ClaimAsync(A, live.JobId);
        await ClaimAsync(A, lapsed.JobId);
        await Db.LetLeaseLapseAsync(lapsed.JobId);

        var renewal = await A.RenewLeasesAsync([(live.JobId, 1), (lapsed.JobId, 1)], TimeSpan.FromHours(1), default);

        Assert.Equal([live.JobId], renewal.Held);
        Assert.Empty(renewal.CancelRequested);
        var liveTimes = await Db.TimesAsync(live.JobId);
        Assert.True(liveTimes.LeaseExpiresAt > liveTimes.Now + TimeSpan.FromMinutes(59), $"lease not extended: {liveTimes}");
        var lapsedTimes = await Db.TimesAsync(lapsed.JobId);
        Assert.True(lapsedTimes.LeaseExpiresAt < lapsedTimes.Now, $"lapsed lease revived: {lapsedTimes}");
    }

    [Fact]
    public async Task RenewalOfAFinishedJobHoldsNothing()
    {
        var order = await Db.InsertOrderAsync();
        await ClaimAsync(A, order.JobId);
        await A.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout);

        Assert.Empty((await A.RenewLeasesAsync([(order.JobId, 1)], TimeSpan.FromHours(1), default)).Held);
        Assert.Null((await Db.TimesAsync(order.JobId)).LeaseExpiresAt);
    }

    /// <summary>Complete, fail (retried and dead), release and renew by <paramref name="replica"/>: each matches nothing.</summary>
    private static async Task AssertEveryWriteRefusedAsync(WorkerStore replica, Guid jobId, int attempt)
    {
        Assert.False(await replica.CompleteAsync(jobId, attempt, default).WaitAsync(Timeout), "completed");
        Assert.False(await replica.FailAsync(jobId, attempt, AttemptOutcome.Failed, dead: false, "late", TimeSpan.Zero, default), "failed for a retry");
        Assert.False(await replica.FailAsync(jobId, attempt, AttemptOutcome.Dead, dead: true, "late", TimeSpan.Zero, default), "failed dead");
        Assert.False(await replica.ReleaseAsync(jobId, attempt, default), "released");
        Assert.Empty((await replica.RenewLeasesAsync([(jobId, attempt)], TimeSpan.FromHours(1), default)).Held);
    }

    private static object Summary(Api.Apis.OrderDetails details) => (
        details.Status, details.UpdatedAt, details.Job!.Status, details.Job.Attempts, details.Job.WorkerId, details.Job.Error,
        details.Job.CompletedAt, string.Join(';', details.Job.History.Select(a => $"{a.Attempt} {a.WorkerId} {a.Outcome} {a.FinishedAt:O}")));
}
