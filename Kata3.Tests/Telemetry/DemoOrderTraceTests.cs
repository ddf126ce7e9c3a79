using System.Net;
using System.Net.Http.Json;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Telemetry;

/// <summary>Demo orders (the dashboard's "Enqueue demo orders"): each one a trace of its own, as if a client had posted it.</summary>
[Collection(OneWorkerCollection.Name)]
public sealed class DemoOrderTraceTests(OneWorkerApp app)
{
    [Fact]
    public async Task EachDemoOrderCompletesInATraceOfItsOwn()
    {
        using var response = await app.Api.PostAsync("/jobs/demo?count=3", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var demo = (await response.Content.ReadFromJsonAsync<DemoBody>())!;
        Assert.Equal(3, demo.Count);
        Assert.Equal(3, demo.OrderIds.Distinct().Count());
        foreach (var orderId in demo.OrderIds)
        {
            await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed");
        }

        // Each demo order's root span, and under it (in the same trace) the worker's span.
        IReadOnlyList<ReceivedSpan> roots = [];
        await Eventually.Async(() =>
        {
            roots = app.Telemetry.SpansNamed("demo order"); // only this test makes demo orders on this app
            return Task.FromResult(roots.Select(r => r.TraceId).Distinct()
                .Count(trace => app.Telemetry.SpansOf(trace).Any(s => s.Name == "process job")) >= 3);
        }, TimeSpan.FromSeconds(30), () => $"demo traces: {string.Join(", ", roots.Select(r => r.TraceId))}");
        Assert.All(roots, r => Assert.Null(r.ParentSpanId));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("many")]
    public async Task ACountOutside1To1000Is400NamingIt(string count)
    {
        var before = await app.CountRowsAsync("orders");
        using var response = await app.Api.PostAsync($"/jobs/demo?count={count}", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"count\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await app.CountRowsAsync("orders"));
    }

    private sealed record DemoBody(int Count, IReadOnlyList<Guid> OrderIds);
}
