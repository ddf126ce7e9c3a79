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
public sealed class JobStateMachineTests(FastDatabase db) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    private WorkerStore _a = null!;
    private WorkerStore _b = null!;

    public Task InitializeAsync()
    {
        _a = db.Replica("fast-a", Lease);
        _b = db.Replica("fast-b", Lease);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task ClaimMakesAQueuedJobProcessingUnderALeaseWithAnAttemptRow()
    {
        var order = await db.InsertOrderAsync();

        var claim = await ClaimAsync(_a, order.JobId);

        Assert.Equal(new Claim(new ClaimedJob(Attempt: 1, MaxAttempts: 5, SimulateFailures: 0), JobExists: true), claim);
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Pending, details.Status);
        Assert.Equal((JobStatus.Processing, 1, (int?)5, "fast-a"), (details.Job!.Status, details.Job.Attempts, details.Job.MaxAttempts, details.Job.WorkerId));
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((1, "fast-a", (string?)null, (DateTimeOffset?)null), (attempt.Attempt, attempt.WorkerId, attempt.Outcome, attempt.FinishedAt));
        var times = await db.TimesAsync(order.JobId);
        Assert.InRange(times.LeaseExpiresAt!.Value, times.Now, times.Now + Lease);
    }

    [Fact]
    public async Task ClaimOfAnUnknownJobSaysThereIsNone()
    {
        Assert.Equal(new Claim(null, JobExists: false), await ClaimAsync(_a, Guid.CreateVersion7()));
    }

    [Fact]
    public async Task JobLeasedByALiveReplicaIsNotClaimedByAnother()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);

        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(_b, order.JobId));

        var job = (await db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((1, "fast-a"), (job.Attempts, job.WorkerId));
        Assert.Single(job.History);
    }

    [Fact]
    public async Task TwoDeliveriesOfOneJobAtOnceClaimItOnce()
    {
        var order = await db.InsertOrderAsync();

        // Submitted together they may share one statement or not: either way one claim.
        var claims = await Task.WhenAll(_a.ClaimAsync(order.JobId, default), _a.ClaimAsync(order.JobId, default)).WaitAsync(Timeout);

        Assert.Single(claims, c => c.Job is not null);
        Assert.All(claims, c => Assert.True(c.JobExists));
        Assert.Single((await db.DetailsAsync(order.OrderId)).Job!.History);
    }

    [Fact]
    public async Task ConcurrentClaimsAndCompletionsEachReachTheirOwnJob()
    {
        var orders = Enumerable.Range(0, 20).Select(i => FastRows.Order(product: $"batch {i}")).ToList();
        await db.Orders().InsertAsync(orders, default);

        var claims = await Task.WhenAll(orders.Select(o => _a.ClaimAsync(o.JobId, default))).WaitAsync(Timeout);
        Assert.All(claims, c => Assert.Equal(1, c.Job?.Attempt));
        var completed = await Task.WhenAll(orders.Select(o => _a.CompleteAsync(o.JobId, 1, default))).WaitAsync(Timeout);

        Assert.All(completed, Assert.True);
        foreach (var order in orders)
        {
            var details = await db.DetailsAsync(order.OrderId);
            Assert.Equal((OrderStatus.Completed, JobStatus.Completed), (details.Status, details.Job!.Status));
        }
    }

    [Fact]
    public async Task CompletionCompletesJobAttemptAndOrderTogether()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);

        Assert.True(await _a.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));

        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Completed, details.Status);
        Assert.Equal(JobStatus.Completed, details.Job!.Status);
        Assert.NotNull(details.Job.CompletedAt);
        Assert.Equal(details.Job.CompletedAt, details.CompletedAt);
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((AttemptOutcome.Completed, details.Job.CompletedAt), (attempt.Outcome, attempt.FinishedAt));
        Assert.Null((await db.TimesAsync(order.JobId)).LeaseExpiresAt);
    }

    [Fact]
    public async Task CompletedJobIsNeitherCompletedAgainNorClaimed()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        await _a.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout);
        var before = await db.DetailsAsync(order.OrderId);

        Assert.False(await _a.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(_b, order.JobId));

        var after = await db.DetailsAsync(order.OrderId);
        Assert.Equal((before.UpdatedAt, before.Job!.CompletedAt, 1), (after.UpdatedAt, after.Job!.CompletedAt, after.Job.Attempts));
    }

    [Fact]
    public async Task FailureToBeRetriedQueuesTheJobForLater()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);

        Assert.True(await _a.FailAsync(order.JobId, 1, AttemptOutcome.Failed, dead: false, "boom", TimeSpan.FromMinutes(10), default));

        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Pending, details.Status);
        Assert.Equal((JobStatus.Queued, "boom"), (details.Job!.Status, details.Job.Error));
        var attempt = Assert.Single(details.Job.History);
        Assert.Equal((AttemptOutcome.Failed, "boom"), (attempt.Outcome, attempt.Error));
        Assert.NotNull(attempt.FinishedAt);
        var times = await db.TimesAsync(order.JobId);
        Assert.Null(times.LeaseExpiresAt);
        Assert.InRange(times.RunAt, times.Now + TimeSpan.FromMinutes(9), times.Now + TimeSpan.FromMinutes(10));
        Assert.Equal(times.RunAt, details.Job.NextAttemptAt);
        // Not due yet: a delivery now claims nothing.
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(_b, order.JobId));
    }

    [Fact]
    public async Task DueRetryIsClaimedAsTheNextAttempt()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        await _a.FailAsync(order.JobId, 1, AttemptOutcome.TimedOut, dead: false, "too slow", TimeSpan.Zero, default);

        Assert.Equal(2, (await ClaimAsync(_b, order.JobId)).Job?.Attempt);

        var job = (await db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((JobStatus.Processing, 2, "fast-b"), (job.Status, job.Attempts, job.WorkerId));
        Assert.Equal([(1, AttemptOutcome.TimedOut), (2, null)], job.History.Select(a => (a.Attempt, a.Outcome)));
    }

    [Fact]
    public async Task FailureOfTheLastAttemptKillsTheJobAndFailsTheOrder()
    {
        await using var twoAttempts = db.Replica("fast-two-attempts", Lease, maxAttempts: 2);
        var order = await db.InsertOrderAsync();
        await ClaimAsync(twoAttempts, order.JobId);
        await twoAttempts.FailAsync(order.JobId, 1, AttemptOutcome.Failed, dead: false, "first", TimeSpan.Zero, default);

        var last = (await ClaimAsync(twoAttempts, order.JobId)).Job!;
        Assert.Equal((2, 2), (last.Attempt, last.MaxAttempts));
        Assert.True(await twoAttempts.FailAsync(order.JobId, 2, AttemptOutcome.Dead, dead: true, "second", TimeSpan.Zero, default));

        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal(OrderStatus.Failed, details.Status);
        Assert.Equal((JobStatus.Dead, "second"), (details.Job!.Status, details.Job.Error));
        Assert.NotNull(details.Job.CompletedAt);
        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Dead], details.Job.History.Select(a => a.Outcome));
        Assert.Equal(new Claim(null, JobExists: true), await ClaimAsync(_b, order.JobId));
    }

    [Fact]
    public async Task ReleaseHandsTheJobBackDueAtOnce()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);

        Assert.True(await _a.ReleaseAsync(order.JobId, 1, default));

        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Pending, JobStatus.Queued), (details.Status, details.Job!.Status));
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single(details.Job.History).Outcome);
        var times = await db.TimesAsync(order.JobId);
        Assert.True(times.RunAt <= times.Now, $"run_at {times.RunAt:O} is after now {times.Now:O}");
        Assert.Equal(2, (await ClaimAsync(_b, order.JobId)).Job?.Attempt);
    }

    [Fact]
    public async Task LapsedLeaseIsClaimedAgainAndTheOldAttemptAbandoned()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        await db.LetLeaseLapseAsync(order.JobId);

        Assert.Equal(2, (await ClaimAsync(_b, order.JobId)).Job?.Attempt);

        var job = (await db.DetailsAsync(order.OrderId)).Job!;
        Assert.Equal((JobStatus.Processing, "fast-b"), (job.Status, job.WorkerId));
        Assert.Equal(
            [(1, "fast-a", AttemptOutcome.Abandoned, true), (2, "fast-b", null, false)],
            job.History.Select(a => (a.Attempt, a.WorkerId, a.Outcome, a.FinishedAt is not null)));
        var times = await db.TimesAsync(order.JobId);
        Assert.True(times.LeaseExpiresAt > times.Now, "the new attempt has no live lease");
    }

    [Fact]
    public async Task SupersededAttemptWritesNothing()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        await db.LetLeaseLapseAsync(order.JobId);
        await ClaimAsync(_b, order.JobId);
        var before = await db.DetailsAsync(order.OrderId);

        // Replica a, back from a freeze, tries every write of its attempt 1.
        await AssertEveryWriteRefusedAsync(_a, order.JobId, attempt: 1);

        var after = await db.DetailsAsync(order.OrderId);
        Assert.Equal(Summary(before), Summary(after));
        Assert.True(await _b.CompleteAsync(order.JobId, 2, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task AnotherReplicaCannotWriteTheHoldersAttempt()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        var before = await db.DetailsAsync(order.OrderId);

        await AssertEveryWriteRefusedAsync(_b, order.JobId, attempt: 1);

        Assert.Equal(Summary(before), Summary(await db.DetailsAsync(order.OrderId)));
        Assert.True(await _a.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task RenewalExtendsLiveLeasesAndNeverRevivesALapsedOne()
    {
        var live = await db.InsertOrderAsync();
        var lapsed = await db.InsertOrderAsync();
        await ClaimAsync(_a, live.JobId);
        await ClaimAsync(_a, lapsed.JobId);
        await db.LetLeaseLapseAsync(lapsed.JobId);

        var held = await _a.RenewLeasesAsync([(live.JobId, 1), (lapsed.JobId, 1)], TimeSpan.FromHours(1), default);

        Assert.Equal([live.JobId], held);
        var liveTimes = await db.TimesAsync(live.JobId);
        Assert.True(liveTimes.LeaseExpiresAt > liveTimes.Now + TimeSpan.FromMinutes(59), $"lease not extended: {liveTimes}");
        var lapsedTimes = await db.TimesAsync(lapsed.JobId);
        Assert.True(lapsedTimes.LeaseExpiresAt < lapsedTimes.Now, $"lapsed lease revived: {lapsedTimes}");
    }

    [Fact]
    public async Task RenewalOfAFinishedJobHoldsNothing()
    {
        var order = await db.InsertOrderAsync();
        await ClaimAsync(_a, order.JobId);
        await _a.CompleteAsync(order.JobId, 1, default).WaitAsync(Timeout);

        Assert.Empty(await _a.RenewLeasesAsync([(order.JobId, 1)], TimeSpan.FromHours(1), default));
        Assert.Null((await db.TimesAsync(order.JobId)).LeaseExpiresAt);
    }

    /// <summary>Complete, fail (retried and dead), release and renew by <paramref name="replica"/>: each matches nothing.</summary>
    private static async Task AssertEveryWriteRefusedAsync(WorkerStore replica, Guid jobId, int attempt)
    {
        Assert.False(await replica.CompleteAsync(jobId, attempt, default).WaitAsync(Timeout), "completed");
        Assert.False(await replica.FailAsync(jobId, attempt, AttemptOutcome.Failed, dead: false, "late", TimeSpan.Zero, default), "failed for a retry");
        Assert.False(await replica.FailAsync(jobId, attempt, AttemptOutcome.Dead, dead: true, "late", TimeSpan.Zero, default), "failed dead");
        Assert.False(await replica.ReleaseAsync(jobId, attempt, default), "released");
        Assert.Empty(await replica.RenewLeasesAsync([(jobId, attempt)], TimeSpan.FromHours(1), default));
    }

    private static async Task<Claim> ClaimAsync(WorkerStore replica, Guid jobId) =>
        await replica.ClaimAsync(jobId, default).WaitAsync(Timeout);

    private static object Summary(Api.Apis.OrderDetails details) => (
        details.Status, details.UpdatedAt, details.Job!.Status, details.Job.Attempts, details.Job.WorkerId, details.Job.Error,
        details.Job.CompletedAt, string.Join(';', details.Job.History.Select(a => $"{a.Attempt} {a.WorkerId} {a.Outcome} {a.FinishedAt:O}")));
}
