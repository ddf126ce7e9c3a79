using Kata3.Tests.Infrastructure;

namespace Kata3.Tests;

/// <summary>Several worker replicas share one queue.</summary>
public sealed class ReplicaTests(ThreeWorkersApp app) : IClassFixture<ThreeWorkersApp>
{
    [Fact]
    public async Task OrdersPostedTogetherAreSpreadOverMoreThanOneReplica()
    {
        var accepted = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => app.PostOrderAsync($"spread-{i}")));

        var orders = await Task.WhenAll(accepted.Select(a =>
            app.WaitForOrderAsync(a.OrderId, TimeSpan.FromSeconds(60), "completed")));

        Assert.All(orders, o => Assert.Equal(1, o.Job!.Attempts));
        var replicas = orders.Select(o => o.Job!.WorkerId).Distinct().ToList();
        Assert.True(replicas.Count > 1, $"all ten orders ran on {string.Join(", ", replicas)}");
    }
}
