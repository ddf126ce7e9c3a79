using System.Net;
using System.Text.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>A permanent failure kills a job at once; dead jobs are listed and can be retried by hand.</summary>
[Collection(RetryCollection.Name)]
public sealed class DeadJobTests(RetryApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PermanentlyFailingJobIsDeadAtOnceListedAndCompletedAfterAManualRetry()
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("permanent"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));

        var failed = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        output.WriteLine(failed.Describe());
        Assert.True(failed.Status == "failed" && failed.Job!.Status == "dead", failed.Describe());
        Assert.Equal(1, failed.Job.Attempts); // permanent: no retries
        var attempt = Assert.Single(failed.Job.OrderedHistory);
        Assert.Equal("dead", attempt.Outcome);
        Assert.False(string.IsNullOrWhiteSpace(attempt.Error));

        var page = await app.GetJobsAsync("dead", limit: 20);
        Assert.True(page.Items.Count is >= 1 and <= 20, $"page of {page.Items.Count}");
        Assert.All(page.Items, j => Assert.Equal("dead", j.Status));
        var listed = await app.FindJobAsync("dead", accepted.JobId);
        Assert.NotNull(listed);
        Assert.Equal((accepted.OrderId, 1), (listed.OrderId, listed.Attempts));
        Assert.False(string.IsNullOrWhiteSpace(listed.Error));

        using (var retry = await app.PostAsync($"/jobs/{accepted.JobId}/retry"))
        {
            Assert.True(retry.StatusCode == HttpStatusCode.Accepted, $"retry answered {(int)retry.StatusCode}: {await retry.Content.ReadAsStringAsync()}");
        }
        var requeued = await app.GetOrderAsync(accepted.OrderId);
        Assert.True(requeued.Status is "pending" or "completed", requeued.Describe());

        var completed = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        output.WriteLine(completed.Describe());
        Assert.True(completed.Status == "completed" && completed.Job!.Status == "completed", completed.Describe());
        Assert.Equal(["dead", "completed"], completed.Job.OrderedHistory.Select(a => a.Outcome));
        Assert.Null(await app.FindJobAsync("dead", accepted.JobId));

        using (var again = await app.PostAsync($"/jobs/{accepted.JobId}/retry"))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }
        using (var unknown = await app.PostAsync($"/jobs/{Guid.NewGuid()}/retry"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }

    [Fact]
    public async Task RetryingAllDeadJobsRequeuesEachOfThemAndTheyComplete()
    {
        var accepted = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            app.PostAcceptedOrderAsync(OrderRequests.Order($"permanent-{i}"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue))));
        foreach (var a in accepted)
        {
            var order = await app.WaitForOrderAsync(a.OrderId, Timeout, "completed", "failed");
            Assert.True(order.Job!.Status == "dead", order.Describe());
        }

        using var response = await app.PostAsync("/jobs/dead/retry");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"answered {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        // Other tests of this app may have left dead jobs too: at least ours were requeued.
        Assert.True(body.RootElement.GetProperty("requeued").GetInt32() >= accepted.Length, text);

        foreach (var a in accepted)
        {
            var order = await app.WaitForOrderAsync(a.OrderId, Timeout, "completed", "failed");
            Assert.True(order.Status == "completed", order.Describe());
        }
        await DeliveryInvariant.AssertHoldsAsync(app, accepted.Select(a => a.OrderId));
    }

    [Fact]
    public async Task DashboardCommandRequeuesDeadJobs()
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("permanent-command"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));
        var dead = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        Assert.True(dead.Job!.Status == "dead", dead.Describe());

        // The "Requeue dead jobs" button on the jobs resource in the dashboard.
        var result = await app.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Jobs, "requeue-dead-jobs")
            .WaitAsync(Kata3App.DefaultTimeout);

        Assert.True(result.Success, result.Message);
        var order = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }
}
