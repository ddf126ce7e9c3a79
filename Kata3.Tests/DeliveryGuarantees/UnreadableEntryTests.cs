using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// An entry a worker cannot read (a producer of a newer message version, mid rolling upgrade) that
/// names a real job: the entry is set aside for people to see, and the job still runs, from its row.
/// </summary>
[Collection(RetryCollection.Name)]
public sealed class UnreadableEntryTests(RetryApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task AnEntryOfAnUnknownVersionNamingARealJobIsSetAsideAndItsJobIsDeliveredFromItsRow()
    {
        await app.WaitForWorkersAtWorkAsync();

        // A real order whose only entry is one this worker cannot read: its job queued in PostgreSQL,
        // its id recorded as enqueued (as the push that wrote the entry left it).
        var (orderId, jobId) = await app.InsertQueuedJobAsync("unknown-version", TimeSpan.Zero);
        var entry = $$$"""{"version":2,"jobId":"{{{jobId}}}","orderId":"{{{orderId}}}","enqueuedAt":"{{{DateTimeOffset.UtcNow:O}}}","work":{"kind":"order","steps":3}}""";
        var transaction = app.Redis.CreateTransaction();
        _ = transaction.SetAddAsync(QueueKeys.Enqueued, jobId.ToString());
        _ = transaction.ListLeftPushAsync(QueueKeys.Ready, entry);
        _ = transaction.ListLeftPushAsync(QueueKeys.Signal, 1);
        Assert.True(await transaction.ExecuteAsync());

        var order = await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        output.WriteLine(order.Describe());

        var setAside = (await app.PoisonEntriesAsync()).Where(e => e.Entry == entry).ToList();
        var record = Assert.Single(setAside);
        // Delivered by the worker that set the entry aside, not left for the sweeper's audit to find.
        Assert.True(record.Reason?.Contains(jobId.ToString()) == true, $"the reason does not say what became of job {jobId}: {record.Stored}");
        output.WriteLine($"{record.Reason}: {record.Entry}");
        Assert.DoesNotContain(entry, await app.ListAsync(QueueKeys.Ready));
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);
    }
}
