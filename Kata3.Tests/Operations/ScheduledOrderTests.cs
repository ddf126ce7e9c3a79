using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.Operations;

/// <summary>
/// Orders with a start time (runAt or delaySeconds): scheduled at once, never started early, started
/// within a second of their time by the workers' scheduler, whatever happened to the workers meanwhile.
/// </summary>
[Collection(OperationsCollection.Name)]
public sealed class ScheduledOrderTests(OperationsApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DelayedOrderIsScheduledAtOnceAndStartsOnTime()
    {
        // One scheduled order through first, unmeasured: on a freshly started app the scheduler's
        // first promotion (JIT, connections) can take longer than the second it is allowed.
        var warmUp = await app.PostAcceptedOrderAsync(new { product = "scheduled-warm-up", quantity = 1, price = 1, delaySeconds = 1 });
        await app.WaitForOrderAsync(warmUp.OrderId, Timeout, "completed");

        var accepted = await app.PostAcceptedOrderAsync(new { product = "scheduled-delay", quantity = 1, price = 1, delaySeconds = 3 });

        Assert.Equal(OrderStatus.Scheduled, accepted.Status);
        var shown = (await app.Api.GetFromJsonAsync<ScheduledBody>($"/orders/{accepted.OrderId}"))!;
        var job = await app.JobStateAsync(accepted.JobId);
        // Due three seconds after the order was accepted, by the clock that wrote both.
        Assert.Equal((OrderStatus.Scheduled, (DateTimeOffset?)job.RunAt, shown.CreatedAt + TimeSpan.FromSeconds(3)),
            (shown.Status, shown.RunAt, job.RunAt));
        Assert.Equal(JobStatus.Scheduled, job.Status);

        // Not started while its time is ahead (by PostgreSQL's clock, which wrote run_at)...
        await JobTimes.StaysAsync(async () =>
        {
            job = await app.JobStateAsync(accepted.JobId);
            return job.Now >= job.RunAt - TimeSpan.FromMilliseconds(200) || (job.Status == JobStatus.Scheduled && job.StartedAt is null);
        }, job.RunAt - job.Now - TimeSpan.FromMilliseconds(200), () => $"started early: {job}");

        // ...and started within a second of it.
        await AssertStartsOnTimeAsync(accepted.JobId);
        await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");
    }

    [Fact]
    public async Task StartTimeInThePastRunsAtOnce()
    {
        var runAt = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:sszzz");
        var accepted = await app.PostAcceptedOrderAsync(new { product = "scheduled-past", quantity = 1, price = 1, runAt });

        Assert.Equal(OrderStatus.Pending, accepted.Status);
        var order = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");
        Assert.Equal(1, order.Job!.Attempts);
    }

    [Fact]
    public async Task ScheduledOrderStartsAfterAWorkerRestart()
    {
        var runAt = DateTimeOffset.UtcNow.AddSeconds(4).ToString("yyyy-MM-ddTHH:mm:ss.fffK");
        var accepted = await app.PostAcceptedOrderAsync(new { product = "scheduled-restart", quantity = 1, price = 1, runAt });
        Assert.Equal(OrderStatus.Scheduled, accepted.Status);
        try
        {
            await app.StopAndWaitForExitAsync(ResourceNames.Worker, Timeout);
            await app.StartAndWaitForHealthyAsync(ResourceNames.Worker, Timeout);
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.Worker, output.WriteLine);
        }

        var order = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");
        var job = await app.JobStateAsync(accepted.JobId);
        Assert.True(job.StartedAt >= job.RunAt, $"started {job.StartedAt:O}, before its time {job.RunAt:O}: {order.Describe()}");
    }

    [Theory]
    [InlineData("runAt", """{"product":"P","quantity":1,"price":1,"runAt":"2026-12-24T18:00:00"}""")]
    [InlineData("runAt", """{"product":"P","quantity":1,"price":1,"runAt":"2999-12-24T18:00:00Z"}""")]
    [InlineData("runAt", """{"product":"P","quantity":1,"price":1,"runAt":"soon"}""")]
    [InlineData("runAt", """{"product":"P","quantity":1,"price":1,"runAt":"2026-12-24T18:00:00Z","delaySeconds":3}""")]
    [InlineData("delaySeconds", """{"product":"P","quantity":1,"price":1,"delaySeconds":-3}""")]
    [InlineData("delaySeconds", """{"product":"P","quantity":1,"price":1,"delaySeconds":"3"}""")]
    public async Task BadScheduleIsRefusedNamingTheFieldAndWritesNothing(string field, string body)
    {
        var product = $"bad-schedule-{Guid.NewGuid():N}";
        using var content = new StringContent(body.Replace("\"P\"", $"\"{product}\""), System.Text.Encoding.UTF8, "application/json");

        using var response = await app.Api.PostAsync("/orders", content);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"answered {(int)response.StatusCode}: {text}");
        Assert.Contains($"\"{field}\"", text);
        await using var count = app.Database.CreateCommand("SELECT count(*) FROM orders WHERE product = @product");
        count.Parameters.AddWithValue("product", product);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    // The scheduler polls every 200 ms and the replica waits on the signal list: well within a second.
    private async Task AssertStartsOnTimeAsync(Guid jobId)
    {
        JobTimes.JobState? job = null;
        await Eventually.Async(async () => (job = await app.JobStateAsync(jobId)).StartedAt is not null,
            TimeSpan.FromSeconds(10), () => $"job {jobId} did not start: {job}");
        var late = job!.StartedAt!.Value - job.RunAt;
        var timing = $"job {jobId} queued {(job.EnqueuedAt - job.RunAt).TotalMilliseconds:0} ms and started {late.TotalMilliseconds:0} ms after its time";
        output.WriteLine(timing);
        Assert.True(late >= TimeSpan.Zero && late <= TimeSpan.FromSeconds(1), timing);
    }

    private sealed record ScheduledBody(Guid OrderId, string Status, DateTimeOffset CreatedAt, DateTimeOffset? RunAt);
}
