using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kata3.Tests.Retention;

/// <summary>Nothing grows forever: old attempt history and idempotency keys are pruned, the poison list is capped.</summary>
[Collection(LimitsCollection.Name)]
public sealed class RetentionTests(LimitsApp app, ITestOutputHelper output)
{
    public const int PoisonCap = 5;

    // Old rows made by SQL; KATA3_RETENTION_OLD_JOBS=100000 measures pruning at scale.
    private static readonly int OldJobs = int.TryParse(Environment.GetEnvironmentVariable("KATA3_RETENTION_OLD_JOBS"), out var n) ? n : 3000;

    [Fact]
    public async Task OldAttemptHistoryAndIdempotencyKeysArePrunedWhileRecentOnesAndAllOrdersAndJobsStay()
    {
        // Recent keyed orders, processed for real: their history and keys must survive every round.
        var recentKey = $"recent-{Guid.NewGuid()}";
        var recent = await app.PostAcceptedOrderAsync(OrderRequests.Order("recent"), (OrderHeaders.IdempotencyKey, recentKey));
        await app.WaitForOrderAsync(recent.OrderId, TimeSpan.FromSeconds(30), "completed");

        var tag = Guid.NewGuid().ToString("N")[..8];
        await using (var connection = await app.Database.OpenConnectionAsync())
        {
            // Completed 8 days ago (2 attempts each): past the 7-day history window.
            await AddJobsAsync(connection, $"old-{tag}", OldJobs, created: "8 days", status: "completed", finished: "8 days", attempts: 2);
            // Created long ago but completed yesterday (a dead job retried): its history is still young.
            await AddJobsAsync(connection, $"late-{tag}", 3, created: "20 days", status: "completed", finished: "1 day", attempts: 3);
            // Dead letters: kept 30 days after they died, then pruned too.
            await AddJobsAsync(connection, $"dead-{tag}", 3, created: "10 days", status: "dead", finished: "10 days", attempts: 5);
            await AddJobsAsync(connection, $"deadold-{tag}", 3, created: "40 days", status: "dead", finished: "31 days", attempts: 5);
            // Cancelled jobs: kept as long as dead ones.
            await AddJobsAsync(connection, $"cancelled-{tag}", 3, created: "10 days", status: "cancelled", finished: "10 days", attempts: 1);
            await AddJobsAsync(connection, $"cancelledold-{tag}", 3, created: "40 days", status: "cancelled", finished: "31 days", attempts: 1);
            // Keys: 25 h old ones expire, 23 h old ones are still within the promised 24 h.
            await AddJobsAsync(connection, $"key25h-{tag}", 3, created: "25 hours", status: "completed", finished: "25 hours", attempts: 1, keyed: true);
            await AddJobsAsync(connection, $"key23h-{tag}", 3, created: "23 hours", status: "completed", finished: "23 hours", attempts: 1, keyed: true);
        }
        var orders = await app.CountRowsAsync("orders");
        var jobs = await app.CountRowsAsync("jobs");

        // Everything due, in whatever round: a round that began while these rows were being added
        // has its cursor past the oldest of them, and leaves them to the next.
        await Eventually.Async(async () => await AttemptsAsync($"old-{tag}%") == 0 && await KeysAsync($"key25h-{tag}%") == 0
                && await AttemptsAsync($"deadold-{tag}%") == 0 && await AttemptsAsync($"cancelledold-{tag}%") == 0,
            TimeSpan.FromSeconds(60), () => "old attempt rows (completed, dead or cancelled) or 25-hour-old keys are still there");

        Assert.Equal(3L, await AttemptsAsync($"cancelled-{tag}%"));
        Assert.Equal(9L, await AttemptsAsync($"late-{tag}%"));
        Assert.Equal(15L, await AttemptsAsync($"dead-{tag}%"));
        Assert.Equal(3L, await KeysAsync($"key23h-{tag}%"));
        Assert.Equal(3L, await AttemptsAsync($"key23h-{tag}%"));
        // Business records stay, with their attempt counts.
        Assert.Equal(orders, await app.CountRowsAsync("orders"));
        Assert.Equal(jobs, await app.CountRowsAsync("jobs"));
        Assert.Equal((long)OldJobs, await CountAsync("SELECT count(*) FROM jobs j JOIN orders o ON o.id = j.order_id WHERE o.product LIKE @p AND j.attempts = 2", $"old-{tag}%"));
        var recentOrder = await app.GetOrderAsync(recent.OrderId);
        Assert.Single(recentOrder.Job!.History!);
        Assert.Equal(recentKey, await ScalarAsync<string>("SELECT idempotency_key FROM orders WHERE id = @p", recent.OrderId));

        // An expired key can be used again: a new order, not a replay of the old one.
        var expiredKey = $"key25h-{tag}-0";
        using (var reused = await app.SendOrderAsync(OrderRequests.Order("reused-key"), (OrderHeaders.IdempotencyKey, expiredKey)))
        {
            Assert.Equal(HttpStatusCode.Accepted, reused.StatusCode);
            Assert.False(reused.Headers.Contains(OrderHeaders.IdempotentReplayed) && reused.Headers.GetValues(OrderHeaders.IdempotentReplayed).Single() == "true");
            var body = (await reused.Content.ReadFromJsonAsync<OrderAcceptedBody>())!;
            await DeliveryInvariant.AssertHoldsAsync(app, [recent.OrderId, body.OrderId]);
        }

        var worker = (await app.WaitForHealthyWorkersAsync(1, CancellationToken.None))[0];
        var logs = await app.GetLogsAsync(worker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var line in logs.Where(l => l.Contains("Pruned ")))
        {
            output.WriteLine(line);
        }
    }

    [Fact]
    public async Task ThePoisonListKeepsOnlyTheNewestEntriesAndGetJobsPoisonShowsThem()
    {
        var entries = Enumerable.Range(0, PoisonCap + 3).Select(i => $"not a job {i} {Guid.NewGuid()}").ToList();
        foreach (var entry in entries)
        {
            await app.Redis.ListLeftPushAsync(QueueKeys.Ready, entry);
        }

        PoisonListBody? list = null;
        await Eventually.Async(async () =>
        {
            list = await app.Api.GetFromJsonAsync<PoisonListBody>($"/jobs/poison?limit={PoisonApiMax}");
            return list!.Items.Any(e => e.Entry == entries[^1]);
        }, TimeSpan.FromSeconds(30), () => $"the last entry was not set aside; GET /jobs/poison: {list}");

        // Capped at the newest five, newest first, each with why, who and when.
        Assert.Equal(PoisonCap, list!.Length);
        Assert.Equal(entries.TakeLast(PoisonCap).Reverse(), list.Items.Select(e => e.Entry));
        Assert.All(list.Items, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Reason));
            Assert.StartsWith($"{ResourceNames.Worker}-", e.WorkerId);
            Assert.True(e.At > DateTimeOffset.UtcNow.AddMinutes(-5), $"set aside at {e.At}");
        });
        Assert.Equal(PoisonCap, await app.Redis.ListLengthAsync(QueueKeys.Poison));

        var two = (await app.Api.GetFromJsonAsync<PoisonListBody>("/jobs/poison?limit=2"))!;
        Assert.Equal(PoisonCap, two.Length);
        Assert.Equal(entries.TakeLast(2).Reverse(), two.Items.Select(e => e.Entry));

        foreach (var bad in new[] { "0", "-1", "1001" })
        {
            using var response = await app.Api.GetAsync($"/jobs/poison?limit={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ValidationProblemBody>();
            Assert.True(problem!.Errors.ContainsKey("limit"), $"limit={bad}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private const int PoisonApiMax = 1000;

    /// <summary>
    /// Inserts keyed-or-not orders with their jobs and attempt rows as if made <paramref name="created"/>
    /// ago (UUIDv7 ids of that time), finished <paramref name="finished"/> ago.
    /// </summary>
    private static async Task AddJobsAsync(NpgsqlConnection connection, string product, int count, string created, string status,
        string finished, int attempts, bool keyed = false)
    {
        await using var command = new NpgsqlCommand("""
            WITH made AS (
                SELECT i, now() - @created::interval + i * interval '1 ms' AS at,
                       now() - @finished::interval AS finished_at
                FROM generate_series(0, @count - 1) AS i
            ), ids AS (
                SELECT i, at, finished_at,
                       (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
                        || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid AS order_id,
                       (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
                        || substr(md5(random()::text), 1, 3) || '9' || substr(md5(random()::text), 1, 15))::uuid AS job_id
                FROM made
            ), orders_made AS (
                INSERT INTO orders (id, job_id, product, quantity, price, status, created_at, updated_at, completed_at, idempotency_key, request_hash)
                SELECT order_id, job_id, @product || '-' || i, 1, 1, @order_status, at, finished_at,
                       CASE WHEN @status = 'completed' THEN finished_at END,
                       CASE WHEN @keyed THEN @product || '-' || i END, CASE WHEN @keyed THEN md5(i::text) END
                FROM ids
            ), jobs_made AS (
                INSERT INTO jobs (id, order_id, status, attempts, worker_id, enqueued_at, started_at, completed_at, updated_at, max_attempts, run_at)
                SELECT job_id, order_id, @status, @attempts, 'worker-old', at, at,
                       CASE WHEN @status = 'completed' THEN finished_at END, finished_at, 5, at
                FROM ids
            )
            INSERT INTO job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
            SELECT job_id, a, 'worker-old', at, finished_at,
                   CASE WHEN a = @attempts THEN @status ELSE 'failed' END, CASE WHEN a < @attempts THEN 'simulated' END
            FROM ids, generate_series(1, @attempts) AS a
            """, connection);
        command.CommandTimeout = 600;
        command.Parameters.AddWithValue("created", created);
        command.Parameters.AddWithValue("finished", finished);
        command.Parameters.AddWithValue("count", count);
        command.Parameters.AddWithValue("product", product);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("order_status", status switch { "completed" => "completed", "cancelled" => "cancelled", _ => "failed" });
        command.Parameters.AddWithValue("attempts", attempts);
        command.Parameters.AddWithValue("keyed", keyed);
        await command.ExecuteNonQueryAsync();
    }

    private Task<long> AttemptsAsync(string productLike) => CountAsync("""
        SELECT count(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id JOIN orders o ON o.id = j.order_id
        WHERE o.product LIKE @p
        """, productLike);

    private Task<long> KeysAsync(string productLike) =>
        CountAsync("SELECT count(*) FROM orders WHERE product LIKE @p AND idempotency_key IS NOT NULL", productLike);

    private Task<long> CountAsync(string sql, object parameter) => ScalarAsync<long>(sql, parameter);

    private async Task<T> ScalarAsync<T>(string sql, object parameter)
    {
        await using var command = app.Database.CreateCommand(sql);
        command.Parameters.AddWithValue("p", parameter);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

public sealed record PoisonEntryBody(string? Reason, string Entry, string? WorkerId, DateTimeOffset? At);
public sealed record PoisonListBody(long Length, IReadOnlyList<PoisonEntryBody> Items);
public sealed record ValidationProblemBody(int Status, Dictionary<string, string[]> Errors);
