using Kata3.Api.Apis;
using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>An order about to be stored, with its job and how it was asked for.</summary>
internal sealed record OrderToCreate(
    Guid OrderId,
    Guid JobId,
    NewOrder Order,
    string? IdempotencyKey,
    string? RequestHash,
    int SimulateFailures,
    string? TraceParent,
    string? TraceState);

/// <summary>An order just stored: when its job was enqueued, and its start time if that is still ahead.</summary>
internal sealed record InsertedOrder(DateTimeOffset EnqueuedAt, DateTimeOffset? ScheduledFor)
{
    /// <summary>Scheduled: nothing may push its job before the worker's scheduler queues it.</summary>
    public bool IsScheduled => ScheduledFor is not null;
}

/// <summary>The order already stored under an idempotency key.</summary>
/// <param name="Status">Where the order stands now (a replay answers with it).</param>
internal sealed record ExistingOrder(Guid OrderId, Guid JobId, string? RequestHash, string Status = OrderStatus.Pending);

/// <summary>Reads and writes orders and their jobs in PostgreSQL.</summary>
internal sealed class OrderStore(
    NpgsqlDataSource dataSource, [FromKeyedServices(StoreClients.HotPath)] NpgsqlDataSource hotPath, DatabasePools pools)
{
    /// <summary>
    /// Inserts the orders of a batch with their jobs in one statement, hence one transaction: pending
    /// with a queued job due at once, or, when its start time is still ahead by PostgreSQL's clock,
    /// scheduled with a scheduled job due then. An order whose idempotency key is taken inserts nothing.
    /// </summary>
    /// <returns>Each inserted order, by order id.</returns>
    public async Task<IReadOnlyDictionary<Guid, InsertedOrder>> InsertAsync(IReadOnlyList<OrderToCreate> batch, CancellationToken cancellationToken)
    {
        // Rows are inserted in key order, so two batches waiting on each other's uncommitted keys
        // always wait the same way round: crossed keys cannot deadlock.
        var rows = batch.OrderBy(c => c.IdempotencyKey, StringComparer.Ordinal).ToList();
        await using var insert = hotPath.CreateCommand("""
            WITH input AS (
                SELECT *, COALESCE(requested_run_at, now() + delay_seconds * interval '1 second') AS due_at
                FROM unnest(@order_ids::uuid[], @job_ids::uuid[], @products::text[], @quantities::int[],
                            @prices::numeric[], @priorities::text[], @keys::text[], @hashes::text[],
                            @simulate::int[], @trace_parents::text[], @trace_states::text[],
                            @run_ats::timestamptz[], @delays::bigint[])
                    AS i(order_id, job_id, product, quantity, price, priority, idempotency_key, request_hash,
                         simulate_failures, trace_parent, trace_state, requested_run_at, delay_seconds)
            ), new_orders AS (
                INSERT INTO orders (id, job_id, product, quantity, price, status, idempotency_key, request_hash)
                SELECT order_id, job_id, product, quantity, price,
                       CASE WHEN due_at > now() THEN @order_scheduled ELSE @order_pending END, idempotency_key, request_hash
                FROM input
                ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id, created_at
            )
            INSERT INTO jobs (id, order_id, status, priority, trace_parent, trace_state, enqueued_at, run_at, simulate_failures)
            SELECT input.job_id, new_orders.id,
                   CASE WHEN input.due_at > now() THEN @job_scheduled ELSE @job_queued END,
                   input.priority, input.trace_parent, input.trace_state,
                   new_orders.created_at, GREATEST(input.due_at, new_orders.created_at), input.simulate_failures
            FROM new_orders JOIN input ON input.order_id = new_orders.id
            RETURNING order_id, enqueued_at, CASE WHEN status = @job_scheduled THEN run_at END
            """);
        insert.Parameters.AddWithValue("order_ids", rows.Select(c => c.OrderId).ToArray());
        insert.Parameters.AddWithValue("job_ids", rows.Select(c => c.JobId).ToArray());
        insert.Parameters.AddWithValue("products", rows.Select(c => c.Order.Product).ToArray());
        insert.Parameters.AddWithValue("quantities", rows.Select(c => c.Order.Quantity).ToArray());
        insert.Parameters.AddWithValue("prices", rows.Select(c => c.Order.Price).ToArray());
        insert.Parameters.AddWithValue("priorities", rows.Select(c => c.Order.Priority).ToArray());
        insert.Parameters.AddWithValue("keys", rows.Select(c => c.IdempotencyKey).ToArray());
        insert.Parameters.AddWithValue("hashes", rows.Select(c => c.RequestHash).ToArray());
        insert.Parameters.AddWithValue("simulate", rows.Select(c => c.SimulateFailures).ToArray());
        insert.Parameters.AddWithValue("trace_parents", rows.Select(c => c.TraceParent).ToArray());
        insert.Parameters.AddWithValue("trace_states", rows.Select(c => c.TraceState).ToArray());
        insert.Parameters.AddWithValue("run_ats", rows.Select(c => c.Order.Schedule?.RunAt).ToArray());
        insert.Parameters.AddWithValue("delays", rows.Select(c => c.Order.Schedule?.DelaySeconds).ToArray());
        insert.Parameters.AddWithValue("order_pending", OrderStatus.Pending);
        insert.Parameters.AddWithValue("order_scheduled", OrderStatus.Scheduled);
        insert.Parameters.AddWithValue("job_queued", JobStatus.Queued);
        insert.Parameters.AddWithValue("job_scheduled", JobStatus.Scheduled);

        var inserted = new Dictionary<Guid, InsertedOrder>();
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted[reader.GetGuid(0)] = new InsertedOrder(reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        }
        return inserted;
    }

    /// <summary>The order stored under <paramref name="idempotencyKey"/>, which the caller found taken.</summary>
    public async Task<ExistingOrder> GetByIdempotencyKeyAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var existing = dataSource.CreateCommand("""
            SELECT o.id, j.id, o.request_hash, o.status
            FROM orders o JOIN jobs j ON j.id = o.job_id
            WHERE o.idempotency_key = @idempotency_key
            """);
        existing.Parameters.AddWithValue("idempotency_key", idempotencyKey);
        await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("An order conflicted on its idempotency key, but none holds that key.");
        }
        return new ExistingOrder(reader.GetGuid(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
    }

    /// <summary>The order with its job (orders.job_id) and that job's attempts, or null when there is no such order.</summary>
    public Task<OrderDetails?> GetAsync(Guid orderId, CancellationToken cancellationToken) =>
        pools.ReadAsync(() => ReadAsync(orderId, cancellationToken));

    private async Task<OrderDetails?> ReadAsync(Guid orderId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT o.id, o.product, o.quantity, o.price, o.status, o.created_at, o.updated_at, o.completed_at,
                   j.id, j.status, j.attempts, j.max_attempts, j.error, j.worker_id, j.enqueued_at, j.started_at,
                   j.completed_at, CASE WHEN j.status IN (@queued, @scheduled) THEN j.run_at END, j.priority,
                   CASE WHEN j.status = @scheduled THEN j.run_at END
            FROM orders o
            LEFT JOIN jobs j ON j.id = o.job_id
            WHERE o.id = @order_id;

            SELECT a.attempt, a.worker_id, a.started_at, a.finished_at, a.outcome, a.error
            FROM job_attempts a
            JOIN orders o ON o.job_id = a.job_id
            WHERE o.id = @order_id
            ORDER BY a.attempt
            """);
        command.Parameters.AddWithValue("order_id", orderId);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("scheduled", JobStatus.Scheduled);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var order = new OrderDetails(
            OrderId: reader.GetGuid(0),
            Product: reader.GetString(1),
            Quantity: reader.GetInt32(2),
            Price: reader.GetDecimal(3),
            Status: reader.GetString(4),
            CreatedAt: reader.GetFieldValue<DateTimeOffset>(5),
            UpdatedAt: reader.GetFieldValue<DateTimeOffset>(6),
            CompletedAt: NullableTime(reader, 7),
            Job: null,
            RunAt: NullableTime(reader, 19));
        var job = reader.IsDBNull(8) ? null : new JobDetails(
            JobId: reader.GetGuid(8),
            Status: reader.GetString(9),
            Attempts: reader.GetInt32(10),
            MaxAttempts: reader.IsDBNull(11) ? null : reader.GetInt32(11),
            Error: reader.IsDBNull(12) ? null : reader.GetString(12),
            WorkerId: reader.IsDBNull(13) ? null : reader.GetString(13),
            Priority: reader.GetString(18),
            EnqueuedAt: reader.GetFieldValue<DateTimeOffset>(14),
            StartedAt: NullableTime(reader, 15),
            CompletedAt: NullableTime(reader, 16),
            NextAttemptAt: NullableTime(reader, 17),
            History: []);

        await reader.NextResultAsync(cancellationToken);
        var history = new List<AttemptDetails>();
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new AttemptDetails(
                Attempt: reader.GetInt32(0),
                WorkerId: reader.GetString(1),
                StartedAt: reader.GetFieldValue<DateTimeOffset>(2),
                FinishedAt: NullableTime(reader, 3),
                Outcome: reader.IsDBNull(4) ? null : reader.GetString(4),
                Error: reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return order with { Job = job is null ? null : job with { History = history } };
    }

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
