using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Kata3.Tests.Operations;

/// <summary>The queue's resource on the dashboard: its state and counts, and its commands through the AppHost.</summary>
[Collection(OperationsCollection.Name)]
public sealed class JobsResourceTests(OperationsApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ResourceShowsTheQueueRunningWithTheDatabasesCounts()
    {
        var dead = await app.PostAcceptedOrderAsync(OrderRequests.Order("resource-dead"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));
        await app.WaitForOrderAsync(dead.OrderId, Timeout, "failed");
        var deadCount = await app.CountAsync("SELECT count(*) FROM jobs WHERE status = 'dead'");

        var snapshot = await WaitForSnapshotAsync(s => s.State?.Text == "Running" && Property(s, "jobs.dead") == deadCount.ToString());
        output.WriteLine(string.Join(", ", snapshot.Properties.Select(p => $"{p.Name}={p.Value}")));
        Assert.Equal("1", Property(snapshot, "jobs.replicas"));
        Assert.Equal("none", Property(snapshot, "jobs.paused"));

        // Once the queue is idle, every count the resource shows is the one GET /jobs/stats reads.
        snapshot = await WaitForSnapshotAsync(s => JobPriority.All.All(p => Property(s, $"jobs.ready.{p}") == "0")
            && Property(s, "jobs.processing") == "0");
        var stats = (await app.Api.GetFromJsonAsync<QueueStatsBody>("/jobs/stats"))!;
        Assert.All(JobPriority.All, p => Assert.Equal(stats.Ready[p].ToString(), Property(snapshot, $"jobs.ready.{p}")));
        Assert.Equal(
            [stats.Processing, stats.Retrying, stats.Scheduled, stats.Dead, stats.Poison],
            new[] { "jobs.processing", "jobs.retrying", "jobs.scheduled", "jobs.dead", "jobs.poison" }.Select(n => long.Parse(Property(snapshot, n)!)));
    }

    [Fact]
    public async Task DemoOrdersCommandEnqueuesTheGivenNumberOfOrdersThatComplete()
    {
        await WaitForSnapshotAsync(s => s.State?.Text == "Running");
        var before = await app.CountAsync("SELECT count(*) FROM orders WHERE status = 'completed'");

        var result = await app.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Jobs, "enqueue-demo-orders",
            new InteractionInputCollection([new InteractionInput { Name = "count", InputType = InputType.Number, Value = "3" }]))
            .WaitAsync(Kata3App.DefaultTimeout);

        Assert.True(result.Success, result.Message);
        await Eventually.Async(async () => await app.CountAsync("SELECT count(*) FROM orders WHERE status = 'completed'") == before + 3,
            Timeout, () => "the three demo orders did not complete");
    }

    [Fact]
    public async Task PurgePoisonCommandEmptiesThePoisonList()
    {
        await WaitForSnapshotAsync(s => s.State?.Text == "Running");
        await app.Redis.ListLeftPushAsync(QueueKeys.Poison, ["{\"reason\":\"test\",\"entry\":\"a\"}", "{\"reason\":\"test\",\"entry\":\"b\"}"]);
        await WaitForSnapshotAsync(s => Property(s, "jobs.poison") == "2");

        var result = await app.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Jobs, "purge-poison").WaitAsync(Kata3App.DefaultTimeout);

        Assert.True(result.Success, result.Message);
        Assert.Equal(0, await app.Redis.ListLengthAsync(QueueKeys.Poison));
        await WaitForSnapshotAsync(s => Property(s, "jobs.poison") == "0");
    }

    [Fact]
    public async Task PauseAndResumeCommandsStopAndRestartTheQueueAndShowItsState()
    {
        await WaitForSnapshotAsync(s => s.State?.Text == "Running");
        try
        {
            var paused = await app.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Jobs, "pause").WaitAsync(Kata3App.DefaultTimeout);
            Assert.True(paused.Success, paused.Message);
            Assert.Equal(3, await app.CountRowsAsync("queue_pauses"));
            await WaitForSnapshotAsync(s => s.State?.Text == "Paused" && Property(s, "jobs.paused") == "high, normal, low");

            // Orders are still accepted, and wait.
            var waiting = await app.PostOrderAsync("resource-paused");
            var resumed = await app.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Jobs, "resume").WaitAsync(Kata3App.DefaultTimeout);
            Assert.True(resumed.Success, resumed.Message);
            Assert.Equal(0, await app.CountRowsAsync("queue_pauses"));
            await WaitForSnapshotAsync(s => s.State?.Text == "Running" && Property(s, "jobs.paused") == "none");
            await app.WaitForOrderAsync(waiting.OrderId, Timeout, "completed");
        }
        finally
        {
            using var resume = await app.Api.PostAsync("/jobs/resume", null);
        }
    }

    private async Task<CustomResourceSnapshot> WaitForSnapshotAsync(Func<CustomResourceSnapshot, bool> predicate)
    {
        using var cts = new CancellationTokenSource(Timeout);
        CustomResourceSnapshot? last = null;
        try
        {
            var e = await app.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Jobs, e =>
            {
                last = e.Snapshot;
                return predicate(e.Snapshot);
            }, cts.Token);
            return e.Snapshot;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The jobs resource never showed the expected state; last: {last?.State?.Text} "
                + string.Join(", ", last?.Properties.Select(p => $"{p.Name}={p.Value}") ?? []));
            throw;
        }
    }

    private static string? Property(CustomResourceSnapshot snapshot, string name) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == name)?.Value?.ToString();
}
