using Kata3.Api.Apis;
using Kata3.Api.Data;
using Kata3.Contracts;
using Kata3.Worker;
using Kata3.Worker.Jobs;
using Microsoft.Extensions.Options;

namespace Kata3.Tests.Fast;

/// <summary>
/// Each test's own orders, written the way the API writes them (OrderStore.InsertAsync), and what
/// the tests read back that GET /orders does not show: the lease and the retry time.
/// </summary>
internal static class FastRows
{
    public static OrderToCreate Order(string product = "fast tea", string? idempotencyKey = null,
        string priority = JobPriority.Normal, int quantity = 1, decimal price = 9.99m, OrderSchedule? schedule = null) =>
        new(Guid.CreateVersion7(), Guid.CreateVersion7(), new NewOrder(product, quantity, price, priority, schedule),
            idempotencyKey, RequestHash: idempotencyKey is null ? null : $"hash of {product}", SimulateFailures: 0,
            TraceParent: null, TraceState: null);

    public static OrderStore Orders(this FastDatabase db) => new(db.DataSource, db.HotPath, db.Pools);

    /// <summary>A worker replica's attempt statements, as replica <paramref name="id"/> runs them.</summary>
    public static AttemptStore Replica(this FastDatabase db, string id, TimeSpan lease, int maxAttempts = 5) =>
        new(db.DataSource, db.HotPath, new WorkerIdentity(id),
            Options.Create(new WorkerOptions { LeaseDuration = lease, Retry = new RetryOptions { MaxAttempts = maxAttempts } }));

    /// <summary>A pending order with its queued job, due now.</summary>
    public static async Task<OrderToCreate> InsertOrderAsync(this FastDatabase db)
    {
        var order = Order();
        var inserted = await db.Orders().InsertAsync([order], CancellationToken.None);
        Assert.True(inserted.ContainsKey(order.OrderId), "the order was not inserted");
        return order;
    }

    public static async Task<OrderDetails> DetailsAsync(this FastDatabase db, Guid orderId) =>
        await db.Orders().GetAsync(orderId, CancellationToken.None) ?? throw new InvalidOperationException($"No order {orderId}.");

    /// <summary>The job's lease and retry time, and the server's now() to compare them with.</summary>
    public static async Task<JobTimes> TimesAsync(this FastDatabase db, Guid jobId)
    {
        await using var command = db.DataSource.CreateCommand("SELECT lease_expires_at, run_at, now() FROM jobs WHERE id = @id");
        command.Parameters.AddWithValue("id", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no job {jobId}");
        return new JobTimes(
            reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0),
            reader.GetFieldValue<DateTimeOffset>(1),
            reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>Time passes for one job: its lease runs out, as when its worker froze or died.</summary>
    public static async Task LetLeaseLapseAsync(this FastDatabase db, Guid jobId)
    {
        await using var command = db.DataSource.CreateCommand(
            "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = @id AND lease_expires_at IS NOT NULL");
        command.Parameters.AddWithValue("id", jobId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}

internal sealed record JobTimes(DateTimeOffset? LeaseExpiresAt, DateTimeOffset RunAt, DateTimeOffset Now);
