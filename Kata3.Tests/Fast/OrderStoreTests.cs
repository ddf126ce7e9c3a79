using Kata3.Api.Apis;
using Kata3.Contracts;

namespace Kata3.Tests.Fast;

/// <summary>The API's insert and read of orders (OrderStore) against real PostgreSQL.</summary>
[Collection(FastDatabase.Collection)]
[Trait("Category", "Fast")]
public sealed class OrderStoreTests(FastDatabase db)
{
    [Fact]
    public async Task InsertStoresAPendingOrderAndAQueuedJobDueAtOnce()
    {
        var order = FastRows.Order(product: "Café ☕ 😀 \"quoted\"", quantity: 3, price: 0.01m, priority: JobPriority.High);

        var enqueued = await db.Orders().InsertAsync([order], default);

        var enqueuedAt = Assert.Single(enqueued, e => e.Key == order.OrderId).Value.EnqueuedAt;
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((order.OrderId, "Café ☕ 😀 \"quoted\"", 3, 0.01m, OrderStatus.Pending, enqueuedAt),
            (details.OrderId, details.Product, details.Quantity, details.Price, details.Status, details.CreatedAt));
        var job = details.Job!;
        Assert.Equal((order.JobId, JobStatus.Queued, 0, (int?)null, JobPriority.High, enqueuedAt, (DateTimeOffset?)enqueuedAt),
            (job.JobId, job.Status, job.Attempts, job.MaxAttempts, job.Priority, job.EnqueuedAt, job.NextAttemptAt));
        Assert.Empty(job.History);
    }

    [Fact]
    public async Task EachOrderOfABatchKeepsItsOwnValues()
    {
        // Keys in reverse order: the insert sorts the batch by key, and every column must follow.
        var batch = new[]
        {
            FastRows.Order("batch c", idempotencyKey: $"c-{Guid.NewGuid()}", JobPriority.Low, quantity: 3, price: 3.33m),
            FastRows.Order("batch b", idempotencyKey: $"b-{Guid.NewGuid()}", JobPriority.High, quantity: 2, price: 2.22m),
            FastRows.Order("batch a", idempotencyKey: null, JobPriority.Normal, quantity: 1, price: 1_000_000m),
        };

        var enqueued = await db.Orders().InsertAsync(batch, default);

        Assert.Equal(batch.Select(o => o.OrderId).Order(), enqueued.Keys.Order());
        foreach (var order in batch)
        {
            var details = await db.DetailsAsync(order.OrderId);
            Assert.Equal((order.Order.Product, order.Order.Quantity, order.Order.Price, order.JobId, order.Order.Priority),
                (details.Product, details.Quantity, details.Price, details.Job!.JobId, details.Job.Priority));
        }
    }

    [Fact]
    public async Task TakenIdempotencyKeyInsertsNothingAndFindsTheFirstOrder()
    {
        var key = $"key-{Guid.NewGuid()}";
        var first = FastRows.Order("first", idempotencyKey: key);
        var second = FastRows.Order("second", idempotencyKey: key);
        await db.Orders().InsertAsync([first], default);

        Assert.Empty(await db.Orders().InsertAsync([second], default));

        Assert.Null(await db.Orders().GetAsync(second.OrderId, default));
        Assert.Equal(new(first.OrderId, first.JobId, first.RequestHash), await db.Orders().GetByIdempotencyKeyAsync(key, default));
    }

    [Fact]
    public async Task OneKeyTwiceInOneBatchInsertsOneOrder()
    {
        var key = $"key-{Guid.NewGuid()}";
        var batch = new[] { FastRows.Order("twin 1", idempotencyKey: key), FastRows.Order("twin 2", idempotencyKey: key) };

        var enqueued = await db.Orders().InsertAsync(batch, default);

        var inserted = Assert.Single(enqueued).Key;
        Assert.Equal(inserted, (await db.Orders().GetByIdempotencyKeyAsync(key, default)).OrderId);
        Assert.Null(await db.Orders().GetAsync(batch.Single(o => o.OrderId != inserted).OrderId, default));
    }

    [Fact]
    public async Task OrderWithAStartTimeAheadIsStoredScheduledAndDueThen()
    {
        var runAt = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(2), TimeSpan.Zero);
        var order = FastRows.Order("scheduled tea", schedule: new OrderSchedule(runAt, null));

        var inserted = Assert.Single(await db.Orders().InsertAsync([order], default)).Value;

        Assert.Equal(runAt, inserted.ScheduledFor);
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Scheduled, runAt, JobStatus.Scheduled, (DateTimeOffset?)runAt, inserted.EnqueuedAt),
            (details.Status, details.RunAt, details.Job!.Status, details.Job.NextAttemptAt, details.Job.EnqueuedAt));
    }

    [Fact]
    public async Task DelayCountsFromTheInsertByPostgresClock()
    {
        var order = FastRows.Order("delayed tea", schedule: new OrderSchedule(null, 90));

        var inserted = Assert.Single(await db.Orders().InsertAsync([order], default)).Value;

        Assert.Equal(inserted.EnqueuedAt + TimeSpan.FromSeconds(90), inserted.ScheduledFor);
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Scheduled, details.CreatedAt + TimeSpan.FromSeconds(90)), (details.Status, details.RunAt!.Value));
    }

    [Fact]
    public async Task StartTimeAlreadyPastIsQueuedDueAtOnce()
    {
        var order = FastRows.Order("late tea", schedule: new OrderSchedule(DateTimeOffset.UtcNow.AddHours(-1), null));
        var alongside = FastRows.Order("tomorrow's tea", schedule: new OrderSchedule(null, 86_400));

        var inserted = await db.Orders().InsertAsync([order, alongside], default);

        Assert.False(inserted[order.OrderId].IsScheduled);
        Assert.True(inserted[alongside.OrderId].IsScheduled);
        var details = await db.DetailsAsync(order.OrderId);
        Assert.Equal((OrderStatus.Pending, (DateTimeOffset?)null, JobStatus.Queued, (DateTimeOffset?)inserted[order.OrderId].EnqueuedAt),
            (details.Status, details.RunAt, details.Job!.Status, details.Job.NextAttemptAt));
    }

    [Fact]
    public async Task EmptyBatchInsertsNothing()
    {
        Assert.Empty(await db.Orders().InsertAsync([], default));
    }

    [Fact]
    public async Task UnknownOrderIsNotFound()
    {
        Assert.Null(await db.Orders().GetAsync(Guid.CreateVersion7(), default));
    }
}
