namespace Kata3.Tests.Infrastructure;

/// <summary>
/// What every delivery-guarantee test asserts at its end, straight from PostgreSQL: no accepted
/// order is missing, each one ends completed or failed (its job dead), and none is completed by
/// two attempts.
/// </summary>
public static class DeliveryInvariant
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static async Task AssertHoldsAsync(Kata3App app, IEnumerable<Guid> acceptedOrderIds, TimeSpan? timeout = null)
    {
        var ids = acceptedOrderIds.Distinct().ToArray();
        Assert.NotEmpty(ids);

        var rows = await ReadAsync(app, ids);
        var missing = ids.Where(id => !rows.Any(r => r.OrderId == id)).ToList();
        Assert.True(missing.Count == 0, $"accepted orders missing from PostgreSQL: {string.Join(", ", missing)}");

        await Eventually.Async(async () =>
        {
            rows = await ReadAsync(app, ids);
            return rows.All(r => r.OrderStatus is "completed" or "failed");
        }, timeout ?? DefaultTimeout, () => "orders not finished: " + string.Join("; ",
            rows.Where(r => r.OrderStatus is not ("completed" or "failed")).Select(r => r.ToString())));

        foreach (var group in rows.GroupBy(r => r.OrderId))
        {
            var job = Assert.Single(group);
            Assert.True(job.CompletedAttempts <= 1, $"completed by more than one attempt: {job}");
            if (job.OrderStatus == "completed")
            {
                Assert.True(job.JobStatus == "completed" && job.CompletedAttempts == 1, $"completed order without exactly one completed attempt: {job}");
            }
            else
            {
                Assert.True(job.JobStatus == "dead" && job.CompletedAttempts == 0, $"failed order whose job is not dead: {job}");
            }
        }
    }

    private static async Task<IReadOnlyList<InvariantRow>> ReadAsync(Kata3App app, Guid[] ids)
    {
        await using var command = app.Database.CreateCommand("""
            SELECT o.id, o.status, j.id, j.status, j.attempts,
                   (SELECT count(*) FROM job_attempts a WHERE a.job_id = j.id AND a.outcome = 'completed'),
                   (SELECT string_agg(a.attempt || ':' || coalesce(a.outcome, 'running'), ',' ORDER BY a.attempt)
                      FROM job_attempts a WHERE a.job_id = j.id)
            FROM orders o LEFT JOIN jobs j ON j.order_id = o.id
            WHERE o.id = ANY(@ids)
            """);
        command.Parameters.AddWithValue("ids", ids);
        var rows = new List<InvariantRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new InvariantRow(
                reader.GetGuid(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? 0 : reader.GetInt32(4),
                reader.GetInt64(5),
                reader.IsDBNull(6) ? "" : reader.GetString(6)));
        }
        return rows;
    }

    private sealed record InvariantRow(
        Guid OrderId, string OrderStatus, Guid? JobId, string? JobStatus, int Attempts, long CompletedAttempts, string History);
}
