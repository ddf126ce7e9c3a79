using Kata3.Api.Data;
using Kata3.Api.Queue;
using Kata3.Batching;
using Kata3.Contracts;

namespace Kata3.Api.Intake;

/// <summary>What accepting an order did: created it, or found the one stored under the same idempotency key.</summary>
internal abstract record IntakeResult
{
    /// <param name="Pushed">The push of its job to the ready queue; a push Redis refused is left to the sweeper.</param>
    /// <param name="ScheduledFor">When a scheduled order will start (its job is not pushed now); null when it runs at once.</param>
    public sealed record Created(Task Pushed, DateTimeOffset? ScheduledFor) : IntakeResult;
    public sealed record Existing(ExistingOrder Order) : IntakeResult;
}

/// <summary>
/// Accepting an order, in its two steps: insert the order and its job (durable first), then push
/// the job to Redis. Concurrent orders share both steps (group commit): one statement and one
/// commit for the batch, then one push for its jobs.
/// </summary>
internal sealed class OrderIntake : IAsyncDisposable
{
    private const int InsertWriters = 2;

    private readonly OrderStore _orders;
    private readonly JobPublisher _publisher;
    private readonly GroupCommit<OrderToCreate, IntakeResult.Created?> _inserts;

    public OrderIntake(OrderStore orders, JobPublisher publisher)
    {
        _orders = orders;
        _publisher = publisher;
        _inserts = new GroupCommit<OrderToCreate, IntakeResult.Created?>("insert orders", AcceptBatchAsync, writers: InsertWriters);
    }

    /// <summary>
    /// Stores the order and its job, then pushes the job. A second order under an existing
    /// idempotency key stores nothing: the unique index makes concurrent requests with one key
    /// wait for the first and then find it.
    /// </summary>
    public async Task<IntakeResult> AcceptAsync(OrderToCreate order, CancellationToken cancellationToken) =>
        await _inserts.SubmitAsync(order, cancellationToken) is { } created
            ? created
            : new IntakeResult.Existing(await _orders.GetByIdempotencyKeyAsync(order.IdempotencyKey!, cancellationToken));

    /// <summary>Runs an empty insert on as many connections as there are insert writers, writing nothing.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, InsertWriters).Select(_ => _orders.InsertAsync([], cancellationToken)));

    public ValueTask DisposeAsync() => _inserts.DisposeAsync();

    // The push starts here, the moment the commit is known, not after each caller has woken up;
    // the writer does not wait for it. Scheduled jobs are not pushed: the worker's scheduler queues
    // and pushes them when they are due. Per order: created, or null when its key was taken.
    private async Task<IReadOnlyList<IntakeResult.Created?>> AcceptBatchAsync(IReadOnlyList<OrderToCreate> batch, CancellationToken cancellationToken)
    {
        var inserted = await _orders.InsertAsync(batch, cancellationToken);
        var due = batch.Where(c => inserted.TryGetValue(c.OrderId, out var order) && !order.IsScheduled).ToList();
        var pushed = _publisher.PublishAsync(due.Select(c => new JobMessage(
            JobMessage.CurrentVersion, c.JobId, c.OrderId, inserted[c.OrderId].EnqueuedAt, c.TraceParent, c.TraceState, c.Order.Priority)).ToList());
        return batch.Select(c => inserted.TryGetValue(c.OrderId, out var order)
            ? new IntakeResult.Created(order.IsScheduled ? Task.CompletedTask : pushed, order.ScheduledFor)
            : null).ToList();
    }
}
