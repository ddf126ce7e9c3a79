using System.Diagnostics;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// One replica and short jobs, in an app of its own: a backlog parked in the low list stays there
/// (a lone replica drains it slowly) without slowing the tests of a shared app.
/// </summary>
public sealed class LostPushApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300))
{
    protected override bool ExportsTelemetry => true;
}

/// <summary>
/// PostgreSQL is the truth for delivery: a queued, due job whose entry is gone from Redis is pushed
/// again within seconds, even when Redis' own bookkeeping (the enqueued set) says it is there and
/// a large backlog is queued ahead of it.
/// </summary>
public sealed class LostPushTests(LostPushApp app, ITestOutputHelper output) : IClassFixture<LostPushApp>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private const int Backlog = 100_000;
    private const string Rescues = "kata3.job.rescues";
    private static readonly (string, string) LostPush = ("cause", "lost_push");

    [Fact]
    public async Task AQueuedJobWhoseEntryIsLostButStillRecordedAsEnqueuedIsDeliveredWithinTenSeconds()
    {
        await app.WaitForWorkersAtWorkAsync();
        var (orderId, _) = await LoseAPushAsync("lost-push", recordedAsEnqueued: true);
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);
    }

    [Fact]
    public async Task AJobWhosePushWasLostBehindALargeBacklogIsDeliveredWithinTenSeconds()
    {
        await app.WaitForWorkersAtWorkAsync();
        var clock = Stopwatch.StartNew();
        var backlog = await app.InsertBacklogAsync(Backlog, TimeSpan.FromHours(1), JobPriority.Low);
        output.WriteLine($"backlog of {backlog.Count} queued jobs (low priority, entries in Redis) made in {clock.Elapsed.TotalSeconds:0.0} s");

        // A push that simply never happened (the API died after its commit), behind more due jobs
        // than the sweeper's quick look at the oldest ones covers.
        var (orderId, _) = await LoseAPushAsync("lost-behind-backlog", recordedAsEnqueued: false);
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);

        foreach (var line in (await app.GetLogsAsync((await app.WaitForWorkersAtWorkAsync())[0], CancellationToken.None)
                     .WaitAsync(TimeSpan.FromSeconds(10))).Where(l => l.Contains("Audit")))
        {
            output.WriteLine(line);
        }
    }

    /// <summary>
    /// A queued job, due since a minute, whose push is lost; with <paramref name="recordedAsEnqueued"/>
    /// its id is still in the enqueued set, so nothing in Redis names it but that set. It must reach
    /// the workers within the bound, counted as a rescue of a lost push.
    /// </summary>
    private async Task<(Guid OrderId, Guid JobId)> LoseAPushAsync(string product, bool recordedAsEnqueued)
    {
        var rescued = app.Telemetry.Total(Rescues, LostPush);
        var (orderId, jobId) = await app.InsertQueuedJobAsync(product, TimeSpan.FromMinutes(1));
        if (recordedAsEnqueued)
        {
            await app.Redis.SetAddAsync(QueueKeys.Enqueued, jobId.ToString());
        }
        var clock = Stopwatch.StartNew();
        await Eventually.Async(() => app.IsDeliveredAsync(jobId), Bound,
            () => $"job {jobId} is queued and due in PostgreSQL but in no ready list or replica's hands");
        output.WriteLine($"job {jobId} delivered {clock.Elapsed.TotalSeconds:0.00} s after its push was lost");

        var order = await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        await app.Telemetry.WaitForTotalAsync(Rescues, rescued + 1, TimeSpan.FromSeconds(10), LostPush);
        return (orderId, jobId);
    }
}
