using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.Hardening;

/// <summary>
/// Random bodies, headers and query strings against the public endpoints: never a 5xx, and a
/// refused order writes nothing (the orders table grows by exactly the orders accepted anew).
/// </summary>
[Collection(HostileInputCollection.Name)]
public sealed class PublicEndpointPropertyTests(OneWorkerApp app, ITestOutputHelper output)
{
    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly Gen<string> Printable = Gen.Char['!', '~'].Array[0, 40].Select(c => new string(c));

    private static readonly Gen<string> JsonValue = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""),
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture) + "0000"),
        Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Decimal.Select(d => d.ToString(CultureInfo.InvariantCulture)),
        Gen.String.Select(s => JsonSerializer.Serialize(s)),
        Gen.Char.Array[0, 30].Select(c => "\"" + string.Concat(c.Select(ch => $"\\u{(int)ch:x4}")) + "\""),
        Pick("\"high\"", "\"low\"", "\"Widget\"", "1", "9.99", "0.001", "-1", "1e400"));

    // Near-valid orders: most are accepted, the rest miss a range by a little.
    private static readonly Gen<string> PlausibleOrder = Gen.Select(
        Printable.Where(p => p.Trim().Length > 0), Gen.Int[-5, 10_005], Gen.Int[-100, 100_000_001], Pick("high", "normal", "low", "urgent"),
        (product, quantity, cents, priority) => string.Create(CultureInfo.InvariantCulture,
            $$"""{"product":{{JsonSerializer.Serialize(product)}},"quantity":{{quantity}},"price":{{cents / 100m}},"priority":"{{priority}}"}"""));

    private static readonly Gen<string> OrderBody = Gen.OneOf(
        PlausibleOrder,
        PlausibleOrder,
        Gen.Select(
            Pick("product", "quantity", "price", "priority", "Product", "extra").Array[0, 6],
            JsonValue.Array[6],
            (names, values) => "{" + string.Join(",", names.Select((n, i) => $"\"{n}\":{values[i]}")) + "}"),
        Gen.String,
        Pick("", "{", "[]", "null", "{\"product\":\"a\",\"quantity\":1,\"price\":1}garbage"));

    private sealed record Call(string Method, string Path, string? Body, string? ContentType, string? Key, string? Simulate)
    {
        public override string ToString() => $"{Method} {Path} ct={ContentType} key={Key} sim={Simulate} body={Body}";
    }

    private static readonly Gen<Call> Calls = Gen.Frequency(
        (6, Gen.Select(OrderBody, Pick<string?>("application/json", "application/json; charset=utf-8", "text/plain", null),
            Gen.OneOf(Pick(new string?[] { null }), Printable.Select(s => (string?)s), Gen.Char['!', '~'].Array[201, 260].Select(c => (string?)new string(c))),
            Gen.OneOf(Pick(new string?[] { null }), Pick<string?>("0", "2", "101", "permanent", "hang", "-1", "x")),
            (body, type, key, simulate) => new Call("POST", "/orders", body, type, key, simulate))),
        (2, Gen.OneOf(Gen.Guid.Select(g => g.ToString()), Printable.Select(Uri.EscapeDataString))
            .Select(id => new Call("GET", $"/orders/{id}", null, null, null, null))),
        (2, Gen.Select(Pick("status", "limit", "after", "page", "pageSize", "x").Array[0, 4], Printable.Array[4],
            (names, values) => new Call("GET", "/jobs?" + string.Join("&", names.Select((n, i) => $"{n}={Uri.EscapeDataString(values[i])}")),
                null, null, null, null))));

    [Fact]
    public async Task RandomRequestsNeverGetA5xxAndRefusedOrdersWriteNothing()
    {
        var before = await app.CountRowsAsync("orders");
        var created = 0;
        var calls = 0;

        await Calls.SampleAsync(async call =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(call.Method), call.Path);
            if (call.Body is not null)
            {
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(call.Body));
                if (call.ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", call.ContentType);
                }
            }
            if (call.Key is not null)
            {
                request.Headers.TryAddWithoutValidation(OrderHeaders.IdempotencyKey, call.Key);
            }
            if (call.Simulate is not null)
            {
                request.Headers.TryAddWithoutValidation(FailureSimulationOptions.HeaderName, call.Simulate);
            }
            using var timeout = new CancellationTokenSource(OrderRequests.RequestTimeout);
            using var response = await app.Api.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            Interlocked.Increment(ref calls);
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {call}: {text}");
            if (call.Method == "POST" && response.StatusCode == HttpStatusCode.Accepted && !response.Headers.Contains(OrderHeaders.IdempotentReplayed))
            {
                Interlocked.Increment(ref created);
            }
        }, iter: 400, threads: 1);

        var after = await app.CountRowsAsync("orders");
        output.WriteLine($"{calls} random requests, {created} orders accepted anew");
        Assert.Equal(before + created, after);
    }
}
