using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>A job that runs past Worker:JobTimeout (1 s here) is cancelled, retried, and dead after the last attempt.</summary>
[Collection(JobLimitsCollection.Name)]
public sealed class JobTimeoutTests(JobLimitsApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task HungJobTimesOutOnEveryAttemptIsDeadAfterTheLastAndFreesItsSlotMeanwhile()
    {
        await app.WaitForWorkersAtWorkAsync();
        var timeouts = app.Telemetry.Total("kata3.job.timeouts");
        var hung = await app.PostAcceptedOrderAsync(OrderRequests.Order("hangs"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.HangValue));
        // The replica has one slot: this order completes only if the hung job lets go of it.
        await Eventually.Async(async () => (await app.GetOrderAsync(hung.OrderId)).Job!.Attempts >= 1,
            TimeSpan.FromSeconds(30), () => $"job {hung.JobId} was never started");
        var other = await app.PostAcceptedOrderAsync(OrderRequests.Order("runs-meanwhile"));

        var order = await app.WaitForOrderAsync(hung.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
        output.WriteLine(order.Describe());
        var job = order.Job!;
        Assert.True(order.Status == "failed" && job.Status == "dead", order.Describe());
        Assert.Equal(3, job.Attempts);
        var history = job.OrderedHistory;
        Assert.Equal(["timed-out", "timed-out", "timed-out"], history.Select(a => a.Outcome));
        foreach (var attempt in history)
        {
            Assert.True(attempt.Error?.Contains("timed out", StringComparison.OrdinalIgnoreCase) == true, order.Describe());
            var ran = attempt.FinishedAt!.Value - attempt.StartedAt;
            Assert.True(ran >= JobTimeout - TimeSpan.FromMilliseconds(50) && ran < JobTimeout + TimeSpan.FromSeconds(3),
                $"attempt {attempt.Attempt} ran {ran.TotalSeconds:0.00} s: {order.Describe()}");
        }
        Assert.False(string.IsNullOrWhiteSpace(job.Error), order.Describe());
        await app.Telemetry.WaitForTotalAsync("kata3.job.timeouts", timeouts + 3, TimeSpan.FromSeconds(10));

        var meanwhile = await app.WaitForOrderAsync(other.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
        output.WriteLine(meanwhile.Describe());
        Assert.True(meanwhile.Status == "completed", meanwhile.Describe());
        Assert.Equal(history[0].WorkerId, meanwhile.Job!.WorkerId);
        Assert.True(meanwhile.CompletedAt < history[^1].FinishedAt,
            $"the other order completed only after the hung job was dead: {meanwhile.Describe()} / {order.Describe()}");

        await DeliveryInvariant.AssertHoldsAsync(app, [hung.OrderId, other.OrderId]);
    }
}
