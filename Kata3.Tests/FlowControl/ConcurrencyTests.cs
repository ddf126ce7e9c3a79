using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.FlowControl;

/// <summary>Worker:Concurrency: K jobs in flight in one replica.</summary>
public sealed class ConcurrencyTests(ConcurrentWorkerApp app, ITestOutputHelper output) : IClassFixture<ConcurrentWorkerApp>
{
    [Fact]
    public async Task OneReplicaWithTenSlotsRunsTenJobsAtOnce()
    {
        var accepted = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => app.PostOrderAsync($"parallel-{i}")));

        var orders = await Task.WhenAll(accepted.Select(a => app.WaitForOrderAsync(a.OrderId, TimeSpan.FromSeconds(30), "completed")));

        // Every job started before the first one finished: they ran side by side, not one after another.
        var lastStart = orders.Max(o => o.Job!.StartedAt!.Value);
        var firstEnd = orders.Min(o => o.Job!.CompletedAt!.Value);
        Assert.True(lastStart < firstEnd, $"last start {lastStart:O} is not before first completion {firstEnd:O}");
        Assert.Single(orders.Select(o => o.Job!.WorkerId).Distinct());
        output.WriteLine($"10 x 2 s on 1 replica with 10 slots: first enqueued → last completed " +
            $"{(orders.Max(o => o.Job!.CompletedAt!.Value) - orders.Min(o => o.Job!.EnqueuedAt)).TotalSeconds:0.00} s");
    }
}
