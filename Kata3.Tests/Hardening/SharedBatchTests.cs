using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Hardening;

/// <summary>
/// Concurrent orders share one insert (group commit). Whatever one of them carries, and however
/// their idempotency keys cross, the others are accepted: no valid order gets a 5xx.
/// </summary>
[Collection(HostileInputCollection.Name)]
public sealed class SharedBatchTests(OneWorkerApp app)
{
    private const int ValidOrders = 40;

    [Fact]
    public async Task ANulByteInOneOrderIsRefusedWith400AndTheValidOrdersSentWithItAreAccepted()
    {
        var marker = Guid.NewGuid().ToString("N");
        // "\u0000" inside a JSON string: valid JSON, text PostgreSQL cannot store.
        var bad = Post($$"""{"product":"bad\u0000byte-{{marker}}","quantity":1,"price":1}""");
        var valid = Enumerable.Range(0, ValidOrders).Select(i => Post($$"""{"product":"valid-{{i}}-{{marker}}","quantity":1,"price":1}""")).ToList();

        var responses = await Task.WhenAll(valid.Prepend(bad));

        var (badStatus, badBody) = responses[0];
        Assert.True(badStatus == HttpStatusCode.BadRequest && badBody.Contains("\"product\""), $"NUL order answered {(int)badStatus}: {badBody}");
        var refused = responses.Skip(1).Where(r => r.Status != HttpStatusCode.Accepted).ToList();
        Assert.True(refused.Count == 0, $"{refused.Count} of {ValidOrders} valid orders refused: "
            + string.Join(" | ", refused.Take(3).Select(r => $"{(int)r.Status} {r.Body}")));
        Assert.Equal(ValidOrders, await CountAsync("SELECT count(*) FROM orders WHERE product LIKE @p", $"%{marker}"));
    }

    [Theory]
    [InlineData("\\ud800")]       // a lone high surrogate: not text at all
    [InlineData("\\udc00x")]      // a lone low surrogate
    [InlineData("tab\\there")]    // a control character
    public async Task ProductsThatAreNotPrintableTextAreRefusedWith400NamingProduct(string escaped)
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await Post($$"""{"product":"{{escaped}}{{marker}}","quantity":1,"price":1}""");

        Assert.True(status == HttpStatusCode.BadRequest && body.Contains("\"product\""), $"answered {(int)status}: {body}");
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM orders WHERE product LIKE @p", $"%{marker}"));
    }

    [Fact]
    public async Task AnOrderPostgreSqlRefusesFailsAloneAndTheOrdersSharingItsInsertAreAccepted()
    {
        var marker = Guid.NewGuid().ToString("N");
        var refusedProduct = $"refused-{marker}";
        // A check the API knows nothing of fails this one order's insert; two slow orders hold both
        // insert writers meanwhile, so the refused order and the valid ones queue up into one batch.
        await using var trigger = await OrdersTriggerAsync(marker, $"""
            IF NEW.product = 'slow-{marker}' THEN PERFORM pg_sleep(2); END IF;
            IF NEW.product = '{refusedProduct}' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF;
            """);
        // One at a time: two slow orders sent together could share one writer's batch.
        var slow = new List<Task<(HttpStatusCode Status, string Body)>>();
        foreach (var running in new[] { 1, 2 })
        {
            slow.Add(Post($$"""{"product":"slow-{{marker}}","quantity":1,"price":1}"""));
            await Eventually.Async(async () => await CountAsync(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE @p", "%INSERT INTO orders%") >= running,
                TimeSpan.FromSeconds(10), () => $"fewer than {running} slow inserts ran at once");
        }

        var refused = Post($$"""{"product":"{{refusedProduct}}","quantity":1,"price":1}""");
        var valid = Enumerable.Range(0, ValidOrders).Select(i => Post($$"""{"product":"valid-{{i}}-{{marker}}","quantity":1,"price":1}""")).ToList();
        var responses = await Task.WhenAll(valid.Prepend(refused).Concat(slow));

        Assert.True(responses[0].Status == HttpStatusCode.UnprocessableEntity,
            $"the refused order answered {(int)responses[0].Status}, not 422: {responses[0].Body}");
        var failed = responses.Skip(1).Where(r => r.Status != HttpStatusCode.Accepted).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {ValidOrders + 2} valid orders failed with it: "
            + string.Join(" | ", failed.Take(3).Select(r => $"{(int)r.Status} {r.Body}")));
        Assert.Equal(ValidOrders, await CountAsync("SELECT count(*) FROM orders WHERE product LIKE @p", $"valid-%{marker}"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM orders WHERE product = @p", refusedProduct));
    }

    [Fact]
    public async Task ConcurrentPostsOverAFewKeysInRandomOrderNeverFailAndCreateOneOrderPerKey()
    {
        var marker = Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(0, 40).Select(i => $"crossed-{i}-{marker}").ToArray();
        var random = new Random(marker.GetHashCode());
        // Every request names one key, in random order; slowed-down inserts make both writers hold
        // several keys at once, in crossed orders.
        var requests = Enumerable.Range(0, 400).Select(_ => keys[random.Next(keys.Length)]).ToList();
        await using var trigger = await OrdersTriggerAsync(marker, $"""
            IF NEW.idempotency_key LIKE 'crossed-%-{marker}' THEN PERFORM pg_sleep(0.01); END IF;
            """);

        var responses = await Task.WhenAll(requests.Select(key =>
            Post($$"""{"product":"{{key}}","quantity":1,"price":1}""", key)));

        var failed = responses.Where(r => r.Status != HttpStatusCode.Accepted).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {requests.Count} requests failed: "
            + string.Join(" | ", failed.Take(3).Select(r => $"{(int)r.Status} {r.Body}")));
        foreach (var key in keys)
        {
            Assert.Equal(1, await CountAsync("SELECT count(*) FROM orders WHERE idempotency_key = @p", key));
        }
    }

    /// <summary>A BEFORE INSERT trigger on orders running <paramref name="body"/>; dropped on dispose.</summary>
    private async Task<IAsyncDisposable> OrdersTriggerAsync(string marker, string body)
    {
        await ExecuteAsync($"""
            CREATE FUNCTION test_{marker}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {body}
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_{marker} BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_{marker}();
            """);
        return new Cleanup(() => ExecuteAsync($"DROP TRIGGER test_{marker} ON orders; DROP FUNCTION test_{marker}();"));
    }

    private sealed class Cleanup(Func<Task> cleanup) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await cleanup();
    }

    private async Task<(HttpStatusCode Status, string Body)> Post(string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add(OrderHeaders.IdempotencyKey, idempotencyKey);
        }
        using var timeout = new CancellationTokenSource(OrderRequests.RequestTimeout);
        using var response = await app.Api.SendAsync(request, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    private async Task<long> CountAsync(string sql, string parameter)
    {
        await using var command = app.Database.CreateCommand(sql);
        command.Parameters.AddWithValue("p", parameter);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = app.Database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
