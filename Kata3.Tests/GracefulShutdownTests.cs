using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests;

/// <summary>Stopping a replica lets it finish the job in its hands, and does not wait for its idle fetch.</summary>
public sealed class GracefulShutdownTests(LongJobsApp app) : IClassFixture<LongJobsApp>
{
    [Fact]
    public async Task ReplicaStoppedWithAJobInHandFinishesThatJobBeforeItExits()
    {
        var accepted = await app.PostOrderAsync("in-hand");
        var processing = await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(30), "pending", "completed");
        await Eventually.Async(async () =>
        {
            processing = await app.GetOrderAsync(accepted.OrderId);
            return processing.Job?.Status == "processing";
        }, TimeSpan.FromSeconds(30), () => $"job never seen processing: {processing}");
        var replica = processing.Job!.WorkerId!;

        // Stop the replica through the app model, as the dashboard's Stop button does.
        var stop = await app.App.ResourceCommands.ExecuteCommandAsync(replica, KnownResourceCommands.StopCommand)
            .WaitAsync(Kata3App.DefaultTimeout);
        Assert.True(stop.Success, stop.Message);

        var order = await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(30), "completed");
        Assert.Equal(replica, order.Job!.WorkerId);
        Assert.Equal(1, order.Job.Attempts);

        // And the replica did exit.
        await app.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Worker,
                e => e.ResourceId == replica && KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text))
            .WaitAsync(Kata3App.DefaultTimeout);
        var logs = await app.GetLogsAsync(replica, CancellationToken.None);
        Assert.Contains(logs, l => l.Contains($"Completed job {accepted.JobId}"));
        Assert.Contains(logs, l => l.Contains("Stopped taking jobs"));
    }

    [Fact]
    public async Task IdleReplicaStopsWithoutWaitingOutItsBlockingPop()
    {
        // With no job posted, a healthy replica is blocked in its 30 s BLPOP.
        var idle = (await app.WaitForHealthyWorkersAsync(1, CancellationToken.None))[0];

        // Well inside the pop's 30 s, and it stopped cleanly rather than being killed.
        await app.StopInstanceAndWaitForExitAsync(ResourceNames.Worker, idle, TimeSpan.FromSeconds(15));
        var logs = await app.GetLogsAsync(idle, CancellationToken.None);
        Assert.Contains(logs, l => l.Contains("Stopped taking jobs"));
        Assert.DoesNotContain(logs, l => l.Contains("Consuming failed"));
    }
}
