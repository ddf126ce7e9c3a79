using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// A job whose entry sits in a live replica's in-hand list with no job of that replica working on
/// it (a take whose reply was lost with the connection) still runs, without a restart.
/// </summary>
[Collection(RetryCollection.Name)]
public sealed class OrphanedEntryTests(RetryApp app)
{
    [Fact]
    public async Task AnEntryALiveReplicaHoldsForNoJobIsReturnedToTheQueueAndRuns()
    {
        var replicas = await app.WaitForWorkersAtWorkAsync();
        var holder = replicas[0];
        var started = app.StartedAt(holder);

        // What the API leaves behind: the order pending, its job queued.
        var (orderId, jobId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await using (var insert = app.Database.CreateCommand("""
            WITH new_order AS (
                INSERT INTO orders (id, job_id, product, quantity, price, status)
                VALUES ($1, $2, 'orphaned', 1, 9.99, 'pending') RETURNING id)
            INSERT INTO jobs (id, order_id, status) SELECT $2, id, 'queued' FROM new_order
            """))
        {
            insert.Parameters.AddWithValue(orderId);
            insert.Parameters.AddWithValue(jobId);
            await insert.ExecuteNonQueryAsync();
        }

        // What a take whose reply never arrived leaves behind: the entry moved into the replica's
        // hands and still recorded as enqueued, so the sweeper sees nothing missing.
        var entry = new JobMessage(JobMessage.CurrentVersion, jobId, orderId, DateTimeOffset.UtcNow, null, null).Serialize();
        await app.Redis.SetAddAsync(QueueKeys.Enqueued, jobId.ToString());
        await app.Redis.ListLeftPushAsync(QueueKeys.Processing(holder), entry);

        var order = await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        Assert.True(app.IsRunning(holder) && app.StartedAt(holder) == started, $"{holder} was restarted or is not running");
        await Eventually.Async(async () => !(await app.ListAsync(QueueKeys.Processing(holder))).Contains(entry),
            TimeSpan.FromSeconds(10), () => $"the entry is still in {holder}'s hands");
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);
    }
}
