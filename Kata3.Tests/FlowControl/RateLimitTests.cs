using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.FlowControl;

/// <summary>The global job-start limit (in Redis, across replicas) and the API's per-client limit.</summary>
public sealed class RateLimitTests(RateLimitedApp app, ITestOutputHelper output) : IClassFixture<RateLimitedApp>
{
    [Fact]
    public async Task JobStartsStayUnderTheGlobalLimitWhateverTheNumberOfReplicas()
    {
        // A start is stamped by the claim, and a replica's first claim (connection, prepared
        // statements) can lag its take by a second: measure warm replicas only.
        var warmUp = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            warmUp.Add(await PostWithinClientLimitAsync($"warm-up-{i}"));
        }
        // One poller at a time: ten at once would spend this client's request bucket.
        foreach (var id in warmUp)
        {
            await app.WaitForOrderAsync(id, TimeSpan.FromSeconds(60), "completed");
        }

        var throttled = app.Telemetry.Total(RateLimited);
        var throttledBefore = ThrottledByReplica();
        var accepted = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            accepted.Add(await PostWithinClientLimitAsync($"limited-{i}"));
        }

        var orders = new List<OrderBody>();
        foreach (var id in accepted)
        {
            orders.Add(await app.WaitForOrderAsync(id, TimeSpan.FromSeconds(60), "completed"));
        }

        // Ten slots could start twenty instant jobs in well under a second; at five per one-second
        // window, twenty starts take four windows, the two between first and last full ones.
        var starts = orders.Select(o => o.Job!.StartedAt!.Value).Order().ToList();
        var span = starts[^1] - starts[0];
        output.WriteLine($"20 jobs at most 5/s on 2 replicas x 5 slots: starts spread over {span.TotalSeconds:0.00} s");
        Assert.True(span >= TimeSpan.FromSeconds(1.9), $"20 starts within {span.TotalSeconds:0.00} s");
        for (var i = 0; i + 10 < starts.Count; i++)
        {
            // Eleven starts take three windows, with a full one between the first and the last
            // (less a little: a start is stamped when the job is claimed, just after it is taken).
            Assert.True(starts[i + 10] - starts[i] >= TimeSpan.FromSeconds(0.9),
                $"11 starts within {(starts[i + 10] - starts[i]).TotalMilliseconds:0} ms");
        }
        // Twenty starts over four windows: fetches found the limit reached, and were counted.
        await app.Telemetry.WaitForTotalAsync(RateLimited, throttled + 1, TimeSpan.FromSeconds(10));
        // And both replicas were at it under the one limit: each started some of the jobs or had a
        // fetch held back (which replica wins a window's starts is up to the scheduler; a replica
        // blocked on its fetch looks again within FetchTimeout, 2 s, well inside the span).
        var ran = orders.Select(o => o.Job!.WorkerId!).ToHashSet();
        await Eventually.Async(() => Task.FromResult(ran.Union(ThrottledByReplica()
                .Where(r => r.Value > throttledBefore.GetValueOrDefault(r.Key)).Select(r => r.Key)).Count() >= app.Workers),
            TimeSpan.FromSeconds(10),
            () => $"ran jobs: {string.Join(", ", ran)}; held back: {string.Join(", ", ThrottledByReplica().Select(r => $"{r.Key} {r.Value}"))}");
    }

    private const string RateLimited = "kata3.job.rate_limited";

    // A replica's throttled fetches so far, by its worker id (its resource name: "worker-" + the
    // service.instance.id it exports under).
    private Dictionary<string, double> ThrottledByReplica() =>
        app.Telemetry.PointsOf(RateLimited).GroupBy(p => $"{ResourceNames.Worker}-{p.Source}").ToDictionary(g => g.Key, g => g.Sum(p => p.Value));

    /// <summary>
    /// Posts an order, waiting out 429s: this class's other test, or this test's own polling, may
    /// have emptied the client's request bucket, which is not what this test measures.
    /// </summary>
    private async Task<Guid> PostWithinClientLimitAsync(string product)
    {
        var orderId = Guid.Empty;
        await Eventually.Async(async () =>
        {
            using var response = await app.Api.PostAsJsonAsync("/orders", new { product, quantity = 1, price = 1 });
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return false;
            }
            orderId = (await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!.OrderId;
            return true;
        }, TimeSpan.FromSeconds(10), () => $"the API kept refusing {product}");
        return orderId;
    }

    [Fact]
    public async Task ClientOverItsRequestLimitGets429WithRetryAfterAndNothingIsWritten()
    {
        var before = await app.CountRowsAsync("orders");

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            app.Api.PostAsJsonAsync("/orders", new { product = $"burst-{i}", quantity = 1, price = 1 })));

        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Accepted);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(60, accepted + refused.Count);
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "no Retry-After");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Equal(before + accepted, await app.CountRowsAsync("orders"));

        // The bucket refills: the client is served again.
        await Eventually.Async(async () =>
            (await app.Api.GetAsync($"/orders/{Guid.NewGuid()}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(10), () => "still refused after the bucket should have refilled");
    }
}
