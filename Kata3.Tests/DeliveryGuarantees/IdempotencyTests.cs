using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>A client that retries a POST with the same Idempotency-Key gets the same order, never a second one.</summary>
[Collection(RetryCollection.Name)]
public sealed class IdempotencyTests(RetryApp app)
{
    [Fact]
    public async Task TenConcurrentPostsWithOneKeyCreateExactlyOneOrderAndAllGetIt()
    {
        var key = $"concurrent-{Guid.NewGuid()}";
        var body = KeyedOrder("idempotent");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => app.SendOrderAsync(body, (OrderHeaders.IdempotencyKey, key))));

        foreach (var r in responses)
        {
            Assert.True(r.StatusCode == HttpStatusCode.Accepted, $"answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        }
        var accepted = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<OrderAcceptedBody>()));
        var orderId = Assert.Single(accepted.Select(a => a!.OrderId).Distinct());
        Assert.Single(accepted.Select(a => a!.JobId).Distinct());
        // One request created it; the nine others were answered from it.
        Assert.Equal(9, responses.Count(Replayed));
        Assert.Equal(1L, await CountOrdersWithKeyAsync(key));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM jobs WHERE order_id = @id", orderId));

        // Replayed again once the order has completed: still the same order, still no new row.
        await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed");
        using (var late = await app.SendOrderAsync(body, (OrderHeaders.IdempotencyKey, key)))
        {
            Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
            Assert.True(Replayed(late), "a late replay is not marked Idempotent-Replayed: true");
            Assert.Equal(orderId, (await late.Content.ReadFromJsonAsync<OrderAcceptedBody>())!.OrderId);
        }
        Assert.Equal(1L, await CountOrdersWithKeyAsync(key));
        foreach (var r in responses)
        {
            r.Dispose();
        }
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);
    }

    [Fact]
    public async Task ReusingAKeyWithAnotherBodyIsRefusedWith422AndCreatesNothing()
    {
        var key = $"reused-{Guid.NewGuid()}";
        var accepted = await app.PostAcceptedOrderAsync(KeyedOrder("first-body"), (OrderHeaders.IdempotencyKey, key));
        var marker = $"second-body-{Guid.NewGuid():N}";

        using var response = await app.SendOrderAsync(OrderRequests.Order(marker, quantity: 2), (OrderHeaders.IdempotencyKey, key));

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity,
            $"answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1L, await CountOrdersWithKeyAsync(key));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM orders WHERE product = @id", marker));
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }

    [Fact]
    public async Task IdempotencyKeyLongerThan200CharactersIsRefusedWith400AndWritesNothing()
    {
        var marker = $"long-key-{Guid.NewGuid():N}";

        using var response = await app.SendOrderAsync(OrderRequests.Order(marker), (OrderHeaders.IdempotencyKey, new string('k', 201)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM orders WHERE product = @id", marker));
    }

    private static object KeyedOrder(string product) => OrderRequests.Order(product, quantity: 3, price: 12.50m);

    private static bool Replayed(HttpResponseMessage response) =>
        response.Headers.TryGetValues(OrderHeaders.IdempotentReplayed, out var values)
        && values.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase));

    private Task<long> CountOrdersWithKeyAsync(string key) =>
        CountAsync("SELECT count(*) FROM orders WHERE idempotency_key = @id", key);

    private async Task<long> CountAsync(string sql, object id)
    {
        await using var command = app.Database.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
