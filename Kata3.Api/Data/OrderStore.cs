using Kata3.Api.Apis;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>Reads and writes orders and their jobs.</summary>
internal sealed class OrderStore(NpgsqlDataSource dataSource)
{
    /// <summary>Inserts the order (pending) and its job (queued) atomically: one statement, one transaction.</summary>
    public async Task<DateTimeOffset> CreateAsync(Guid orderId, Guid jobId, NewOrder order,
        string? traceParent, string? traceState, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH new_order AS (
                INSERT INTO orders (id, product, quantity, price, status)
                VALUES (@order_id, @product, @quantity, @price, @order_status)
                RETURNING id, created_at
            )
            INSERT INTO jobs (id, order_id, status, trace_parent, trace_state, enqueued_at)
            SELECT @job_id, id, @job_status, @trace_parent, @trace_state, created_at FROM new_order
            RETURNING enqueued_at
            """);
        command.Parameters.AddWithValue("order_id", orderId);
        command.Parameters.AddWithValue("product", order.Product);
        command.Parameters.AddWithValue("quantity", order.Quantity);
        command.Parameters.AddWithValue("price", order.Price);
        command.Parameters.AddWithValue("order_status", OrderStatus.Pending);
        command.Parameters.AddWithValue("job_id", jobId);
        command.Parameters.AddWithValue("job_status", JobStatus.Queued);
        command.Parameters.AddWithValue("trace_parent", (object?)traceParent ?? DBNull.Value);
        command.Parameters.AddWithValue("trace_state", (object?)traceState ?? DBNull.Value);

        // Npgsql reads timestamptz as a UTC DateTime.
        var enqueuedAt = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        return new DateTimeOffset(enqueuedAt, TimeSpan.Zero);
    }

    /// <summary>The order with its most recent job, or null when there is no such order.</summary>
    public async Task<OrderDetails?> GetAsync(Guid orderId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT o.id, o.product, o.quantity, o.price, o.status, o.created_at, o.updated_at, o.completed_at,
                   j.id, j.status, j.attempts, j.error, j.worker_id, j.enqueued_at, j.started_at, j.completed_at
            FROM orders o
            LEFT JOIN LATERAL (
                SELECT * FROM jobs WHERE jobs.order_id = o.id ORDER BY enqueued_at DESC LIMIT 1
            ) j ON true
            WHERE o.id = @order_id
            """);
        command.Parameters.AddWithValue("order_id", orderId);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var job = reader.IsDBNull(8) ? null : new JobDetails(
            JobId: reader.GetGuid(8),
            Status: reader.GetString(9),
            Attempts: reader.GetInt32(10),
            Error: reader.IsDBNull(11) ? null : reader.GetString(11),
            WorkerId: reader.IsDBNull(12) ? null : reader.GetString(12),
            EnqueuedAt: reader.GetFieldValue<DateTimeOffset>(13),
            StartedAt: reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
            CompletedAt: reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15));

        return new OrderDetails(
            OrderId: reader.GetGuid(0),
            Product: reader.GetString(1),
            Quantity: reader.GetInt32(2),
            Price: reader.GetDecimal(3),
            Status: reader.GetString(4),
            CreatedAt: reader.GetFieldValue<DateTimeOffset>(5),
            UpdatedAt: reader.GetFieldValue<DateTimeOffset>(6),
            CompletedAt: reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            Job: job);
    }
}
