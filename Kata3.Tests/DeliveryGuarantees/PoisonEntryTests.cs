using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>An entry a worker cannot process is set aside with a reason; it neither blocks nor breaks the workers.</summary>
[Collection(RetryCollection.Name)]
public sealed class PoisonEntryTests(RetryApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task EntriesThatAreNotRunnableJobsEndUpInThePoisonListWithAReasonAndTheWorkersCarryOn()
    {
        var replicas = await app.WaitForWorkersAtWorkAsync();
        var started = replicas.ToDictionary(id => id, app.StartedAt);
        var now = DateTimeOffset.UtcNow.ToString("O");
        string[] poison =
        [
            $"this is not JSON {Guid.NewGuid()}",
            $$"""{"version":999,"jobId":"{{Guid.NewGuid()}}","orderId":"{{Guid.NewGuid()}}","enqueuedAt":"{{now}}"}""",
            $$"""{"version":{{JobMessage.CurrentVersion}},"jobId":"{{Guid.NewGuid()}}","orderId":"{{Guid.NewGuid()}}","enqueuedAt":"{{now}}","traceParent":null,"traceState":null}""",
        ];
        foreach (var entry in poison)
        {
            await app.Redis.ListLeftPushAsync(QueueKeys.Ready, entry);
        }

        IReadOnlyList<PoisonEntry> setAside = [];
        await Eventually.Async(async () =>
        {
            setAside = await app.PoisonEntriesAsync();
            return poison.All(p => setAside.Any(e => e.Entry == p && !string.IsNullOrWhiteSpace(e.Reason)));
        }, TimeSpan.FromSeconds(30), () => "not every entry reached the poison list with a reason; it holds: "
            + string.Join(" | ", setAside.Select(e => e.Stored)));
        foreach (var entry in poison)
        {
            output.WriteLine($"{setAside.First(e => e.Entry == entry).Reason}: {entry}");
        }

        // Gone from the ready list and from every replica's hands, not retried forever.
        var ready = await app.ListAsync(QueueKeys.Ready);
        Assert.Empty(ready.Intersect(poison));
        foreach (var id in replicas)
        {
            Assert.Empty((await app.ListAsync(QueueKeys.Processing(id))).Intersect(poison));
        }

        // The same replicas, never restarted, still healthy, still doing work.
        await app.WaitForWorkersAtWorkAsync();
        Assert.All(replicas, id => Assert.True(app.IsRunning(id) && app.StartedAt(id) == started[id], $"{id} was restarted or is not running"));
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("after-poison"));
        var order = await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }
}
