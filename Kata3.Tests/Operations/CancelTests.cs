using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Operations;

/// <summary>
/// One replica taking one job at a time, 30-second jobs and a 30-second lease (renewed every
/// 10 s): a posted order runs for long enough to be cancelled while it runs, the next one waits
/// queued behind it, and a cancel seen within seconds came by pub/sub, not by the renewal.
/// </summary>
public sealed class CancelApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromSeconds(30),
    "--Kata3:Worker:Concurrency=1",
    "--Kata3:Worker:LeaseDuration=00:00:30")
{
    protected override bool ExportsTelemetry => true;
}

/// <summary>
/// POST /orders/{id}/cancel end to end: a queued, scheduled or running order ends cancelled, its job
/// never runs again and the replica's slot is free for the next; finished and unknown orders are
/// refused. Every test leaves the replica idle (it cancels what it started).
/// </summary>
public sealed class CancelTests(CancelApp app) : IClassFixture<CancelApp>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(8);
    // The renewal's interval (a third of the lease) and room for the statement and the stop.
    private static readonly TimeSpan WithinARenewal = TimeSpan.FromSeconds(10) + Soon;

    [Fact]
    public async Task RunningOrderIsStoppedAtOnceAndTheReplicaTakesTheNextOrder()
    {
        var running = await RunningOrderAsync("cancel-running");
        var next = await app.PostOrderAsync("cancel-next");
        var stopped = app.Telemetry.Total("kata3.job.cancelled");

        using var response = await CancelAsync(running.OrderId);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(new CancelBody(running.OrderId, running.JobId, "cancelling"), await response.Content.ReadFromJsonAsync<CancelBody>());
        var order = await app.WaitForOrderAsync(running.OrderId, Soon, OrderStatus.Cancelled);
        AssertStoppedWhileRunning(order);
        // The listener's line: the pub/sub message stopped it, not the lease renewal.
        await AssertLoggedAsync(order.Job!.WorkerId!, $"Stopping job {running.JobId}: an operator cancelled it");
        await app.Telemetry.WaitForTotalAsync("kata3.job.cancelled", stopped + 1, Soon);

        await WaitForJobAsync(next.OrderId, JobStatus.Processing);
        await CancelRunningAsync(next.OrderId);
    }

    [Fact]
    public async Task QueuedOrderIsCancelledAndItsJobNeverRuns()
    {
        var running = await RunningOrderAsync("cancel-busy");
        var queued = await app.PostOrderAsync("cancel-queued");

        using var response = await CancelAsync(queued.OrderId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new CancelBody(queued.OrderId, queued.JobId, "cancelled"), await response.Content.ReadFromJsonAsync<CancelBody>());
        await AssertCancelledUnstartedAsync(queued.OrderId);
        var listed = await app.Api.GetFromJsonAsync<JobPageBody>("/jobs?status=cancelled&limit=100");
        Assert.Contains(listed!.Items, j => j.JobId == queued.JobId);

        // The replica, free again, takes the cancelled job's entry and drops it without an attempt.
        await CancelRunningAsync(running.OrderId);
        await Eventually.Async(async () => !(await app.ReadyJobIdsAsync()).Contains(queued.JobId)
                && !await app.Redis.SetContainsAsync(QueueKeys.Enqueued, queued.JobId.ToString()),
            Soon, () => $"the entry of cancelled job {queued.JobId} is still in Redis");
        await AssertCancelledUnstartedAsync(queued.OrderId);
    }

    [Fact]
    public async Task ScheduledOrderIsCancelled()
    {
        var later = await app.PostAcceptedOrderAsync(new { product = "cancel-scheduled", quantity = 1, price = 1, delaySeconds = 2 });
        Assert.Equal(OrderStatus.Scheduled, later.Status);

        using var response = await CancelAsync(later.OrderId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertCancelledUnstartedAsync(later.OrderId);
        // Its time comes and goes: the scheduler does not start a cancelled job.
        await JobTimes.StaysAsync(async () => (await app.GetOrderAsync(later.OrderId)).Status == OrderStatus.Cancelled,
            TimeSpan.FromSeconds(4), () => "the cancelled scheduled order changed once its time came");
        Assert.Equal(0, (await app.GetOrderAsync(later.OrderId)).Job!.Attempts);
    }

    [Fact]
    public async Task CancelWhoseMessageIsLostStopsTheJobAtTheNextLeaseRenewal()
    {
        var running = await RunningOrderAsync("cancel-unannounced");

        // The API's half of a cancel without its PUBLISH, as when Redis drops the message.
        await ExecuteAsync("UPDATE jobs SET cancel_requested_at = now() WHERE id = @job_id", running.JobId, running.OrderId);

        var order = await app.WaitForOrderAsync(running.OrderId, WithinARenewal, OrderStatus.Cancelled);
        AssertStoppedWhileRunning(order);
        var logs = await app.GetLogsAsync(order.Job!.WorkerId!, CancellationToken.None).WaitAsync(Soon);
        Assert.Contains(logs, l => l.Contains($"Cancelled job {running.JobId}"));
        Assert.DoesNotContain(logs, l => l.Contains($"Stopping job {running.JobId}"));
    }

    [Fact]
    public async Task FinishedOrdersAreConflictsUnknownOnesNotFoundAndAnonymousCallersUnauthorized()
    {
        var cancelled = await RunningOrderAsync("cancel-twice");
        await CancelRunningAsync(cancelled.OrderId);
        var completed = await RunningOrderAsync("cancel-completed");
        await CancelRunningAsync(completed.OrderId);
        // A completed job, as the worker leaves one (30-second jobs are too slow to wait for).
        await ExecuteAsync("""
            UPDATE jobs SET status = 'completed', error = NULL WHERE id = @job_id;
            UPDATE orders SET status = 'completed', completed_at = now() WHERE id = @order_id
            """, completed.JobId, completed.OrderId);

        using (var again = await CancelAsync(cancelled.OrderId))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("cancelled", await again.Content.ReadAsStringAsync());
        }
        using (var done = await CancelAsync(completed.OrderId))
        {
            Assert.Equal(HttpStatusCode.Conflict, done.StatusCode);
            Assert.Contains("completed", await done.Content.ReadAsStringAsync());
        }
        Assert.Equal(OrderStatus.Completed, (await app.GetOrderAsync(completed.OrderId)).Status);
        using (var unknown = await CancelAsync(Guid.CreateVersion7()))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var queued = await RunningOrderAsync("cancel-anonymous");
        using (var anonymous = await app.Anonymous.PostAsync($"/orders/{queued.OrderId}/cancel", content: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        Assert.Equal(JobStatus.Processing, (await app.GetOrderAsync(queued.OrderId)).Job!.Status);
        await CancelRunningAsync(queued.OrderId);
    }

    /// <summary>Posts an order and waits until the replica is working on it.</summary>
    private async Task<OrderAcceptedBody> RunningOrderAsync(string product)
    {
        await app.WaitForWorkersAtWorkAsync();
        var accepted = await app.PostOrderAsync(product);
        await WaitForJobAsync(accepted.OrderId, JobStatus.Processing);
        return accepted;
    }

    /// <summary>Cancels a running order and waits until its replica has stopped it, freeing the slot.</summary>
    private async Task CancelRunningAsync(Guid orderId)
    {
        using var response = await CancelAsync(orderId);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await app.WaitForOrderAsync(orderId, Soon, OrderStatus.Cancelled);
    }

    private Task<HttpResponseMessage> CancelAsync(Guid orderId) => app.Api.PostAsync($"/orders/{orderId}/cancel", content: null);

    private async Task WaitForJobAsync(Guid orderId, string status)
    {
        OrderBody? last = null;
        await Eventually.Async(async () => (last = await app.GetOrderAsync(orderId)).Job?.Status == status,
            Soon, () => $"order {orderId}'s job is not {status}; last seen: {last}");
    }

    private static void AssertStoppedWhileRunning(OrderBody order)
    {
        Assert.True(order.Job!.Status == JobStatus.Cancelled && order.Job.Error == Cancellation.JobError, order.ToString());
        var attempt = Assert.Single(order.Job.OrderedHistory);
        Assert.True(attempt.Outcome == AttemptOutcome.Cancelled && attempt.FinishedAt is not null, order.ToString());
        // Long before the 30-second work would have ended.
        Assert.True(attempt.FinishedAt - attempt.StartedAt < TimeSpan.FromSeconds(25), order.ToString());
    }

    private async Task AssertCancelledUnstartedAsync(Guid orderId)
    {
        var order = await app.GetOrderAsync(orderId);
        Assert.True(order.Status == OrderStatus.Cancelled && order.Job!.Status == JobStatus.Cancelled, order.ToString());
        Assert.True(order.Job.Attempts == 0 && order.Job.OrderedHistory.Count == 0, order.ToString());
    }

    private async Task AssertLoggedAsync(string workerId, string text)
    {
        IReadOnlyList<string> logs = [];
        await Eventually.Async(async () =>
        {
            logs = await app.GetLogsAsync(workerId, CancellationToken.None).WaitAsync(Soon);
            return logs.Any(l => l.Contains(text));
        }, Soon, () => $"{workerId} did not log \"{text}\"; its last lines:\n{string.Join('\n', logs.TakeLast(15))}");
    }

    private async Task ExecuteAsync(string sql, Guid jobId, Guid orderId)
    {
        await using var command = app.Database.CreateCommand(sql);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("order_id", orderId);
        Assert.True(await command.ExecuteNonQueryAsync() > 0, $"no row of job {jobId} changed");
    }

    private sealed record CancelBody(Guid OrderId, Guid JobId, string Status);

    private sealed record JobPageBody(IReadOnlyList<JobSummaryBody> Items, string? Next);

    private sealed record JobSummaryBody(Guid JobId, Guid OrderId, string Status);
}
