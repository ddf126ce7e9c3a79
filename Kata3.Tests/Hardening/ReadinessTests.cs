using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.Hardening;

/// <summary>
/// The API reports healthy only once it is warm: the first order after /health turns green is
/// answered about as fast as the ones after it, not after a second of cold start.
/// </summary>
public sealed class ReadinessTests(OneWorkerApp app, ITestOutputHelper output) : IClassFixture<OneWorkerApp>
{
    // Generous: far above a warmed first request, far below a cold one (which compiles the whole path).
    private static readonly TimeSpan MaxFirstRequest = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task TheFirstOrderAfterHealthyIsAnsweredAsFastAsTheNext()
    {
        // Kata3App waits for the API to be healthy and posts nothing: this is the first order, sent
        // as a user sends it (no operator key). The test's own client is warmed first on /alive,
        // which touches neither store.
        using (var alive = await app.Anonymous.GetAsync(ServiceDefaultsExtensions.AlivenessEndpointPath))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }
        var orders = new List<(string TraceId, TimeSpan Client)>();
        for (var i = 0; i < 11; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await app.Anonymous.PostAsJsonAsync("/orders", new { product = $"first-{i}", quantity = 1, price = 1m });
            var client = clock.Elapsed;
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            orders.Add(((await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!.TraceId!, client));
        }

        // Timed as the API's own request span: the test host's side (its first serializing, its
        // share of a machine busy with other apps) is not the API's start.
        var server = new TimeSpan[orders.Count];
        await Eventually.Async(() =>
        {
            for (var i = 0; i < orders.Count; i++)
            {
                server[i] = app.Telemetry.SpansOf(orders[i].TraceId)
                    .FirstOrDefault(s => s.Kind == ReceivedSpan.SpanKind.Server)?.Duration ?? TimeSpan.Zero;
            }
            return Task.FromResult(server.All(d => d > TimeSpan.Zero));
        }, TimeSpan.FromSeconds(15), () => "not every order's request span was exported");

        var first = server[0];
        var median = server.Skip(1).Order().ElementAt(5);
        output.WriteLine($"the API's first POST {first.TotalMilliseconds:0.0} ms, median of the next ten {median.TotalMilliseconds:0.0} ms; " +
            $"at the client {orders[0].Client.TotalMilliseconds:0.0} ms and {orders.Skip(1).Select(o => o.Client).Order().ElementAt(5).TotalMilliseconds:0.0} ms");
        Assert.True(first <= MaxFirstRequest || first <= median * 10,
            $"the API took {first.TotalMilliseconds:0} ms for the first POST, {median.TotalMilliseconds:0.0} ms (median) for the next ones");
    }
}
