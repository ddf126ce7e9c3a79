using System.Net;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Security;

/// <summary>Loopback (where DCP's proxy and the tests connect from) is a configured proxy; one request a second per client, three at once.</summary>
public sealed class TrustedProxyApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(50),
    "--Kata3:Api:ForwardedHeaders:KnownProxies:0=127.0.0.1",
    "--Kata3:Api:ForwardedHeaders:KnownProxies:1=::1",
    "--Kata3:Api:RateLimiting:PermitsPerSecond=1",
    "--Kata3:Api:RateLimiting:Burst=3");

/// <summary>No proxy configured, the same tight limit, and OpenAPI switched off.</summary>
public sealed class NoProxyApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(50),
    "--Kata3:Api:RateLimiting:PermitsPerSecond=1",
    "--Kata3:Api:RateLimiting:Burst=3",
    "--Kata3:Api:OpenApi:Enabled=false");

/// <summary>Behind a configured proxy each client (an IPv6 client by its /64) has its own bucket.</summary>
public sealed class TrustedProxyTests(TrustedProxyApp app) : IClassFixture<TrustedProxyApp>
{
    [Fact]
    public async Task ForwardedClientsGetTheirOwnBucketsAndIpv6ClientsShareTheirSlash64()
    {
        // The bucket refills one token a second, so a run of requests may see one refill; each
        // assertion leaves room for it rather than racing the clock.
        var burst = 3;
        var first = await PostAsAsync(app, "203.0.113.1", burst + 2);
        Assert.True(first.Take(burst).All(s => s == HttpStatusCode.Accepted), string.Join(", ", first));
        Assert.Contains(HttpStatusCode.TooManyRequests, first);
        Assert.Equal([HttpStatusCode.Accepted], await PostAsAsync(app, "203.0.113.2", 1));

        var v6 = await PostAsAsync(app, "2001:db8:1:2::1", burst + 2);
        Assert.Contains(HttpStatusCode.TooManyRequests, v6);
        // Same /64, another address: the same (empty) bucket.
        Assert.Contains(HttpStatusCode.TooManyRequests, await PostAsAsync(app, "2001:db8:1:2:ffff:ffff:ffff:ffff", 2));
        Assert.Equal([HttpStatusCode.Accepted], await PostAsAsync(app, "2001:db8:1:3::1", 1));
    }

    internal static async Task<HttpStatusCode[]> PostAsAsync(Kata3App app, string forwardedFor, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
            {
                Content = new StringContent("""{"product":"proxied","quantity":1,"price":1}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
            using var response = await app.Anonymous.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        return [.. statuses];
    }
}

/// <summary>Without a configured proxy forwarded headers are ignored; hosts, headers, OpenAPI and health are locked down.</summary>
public sealed class NoProxyTests(NoProxyApp app) : IClassFixture<NoProxyApp>
{
    [Fact]
    public async Task ForwardedForFromAnUnconfiguredProxyIsIgnored()
    {
        await Eventually.Async(async () => (await TrustedProxyTests.PostAsAsync(app, "198.51.100.1", 1))[0] == HttpStatusCode.TooManyRequests,
            TimeSpan.FromSeconds(10), () => "the shared bucket never emptied");
        // Another forwarded address does not escape the bucket every loopback request shares: were
        // the header honoured, a fresh bucket would accept all three; ignored, at most one refill gets in.
        var other = await TrustedProxyTests.PostAsAsync(app, "198.51.100.77", 3);
        Assert.True(other.Count(s => s == HttpStatusCode.Accepted) <= 1, string.Join(", ", other));
    }

    [Fact]
    public async Task EveryAnswerCarriesTheHardeningHeaders()
    {
        // The class's tests share one loopback bucket that refills a token a second: wait for each.
        using var accepted = await UntilAsync(HttpStatusCode.Accepted, () => app.Anonymous.PostAsync("/orders", Json("""{"product":"headers","quantity":1,"price":1}""")));
        using var invalid = await UntilAsync(HttpStatusCode.BadRequest, () => app.Anonymous.PostAsync("/orders", Json("""{"product":"","quantity":1,"price":1}""")));
        using var missing = await UntilAsync(HttpStatusCode.NotFound, () => app.Anonymous.GetAsync($"/orders/{Guid.NewGuid()}"));
        using var unauthorized = await app.Anonymous.GetAsync("/jobs");
        HttpResponseMessage? limited = null;
        await Eventually.Async(async () =>
        {
            limited?.Dispose();
            limited = await app.Anonymous.PostAsync("/orders", Json("""{"product":"headers","quantity":1,"price":1}"""));
            return limited.StatusCode == HttpStatusCode.TooManyRequests;
        }, TimeSpan.FromSeconds(10), () => "never limited");

        foreach (var response in new[] { accepted, invalid, missing, unauthorized, limited! })
        {
            var what = $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery} ({(int)response.StatusCode})";
            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) && nosniff.Single() == "nosniff", what);
            Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", what);
            Assert.True(response.Headers.Contains("Referrer-Policy"), what);
            Assert.True(response.Headers.Contains("Content-Security-Policy"), what);
        }
        limited!.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task AForeignHostIsRefusedAndOpenApiIsOffWhenConfiguredOff()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ServiceDefaultsExtensions.HealthEndpointPath);
        request.Headers.Host = "evil.example";
        using var foreign = await app.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);

        using var openApi = await app.Anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.NotFound, openApi.StatusCode);
    }

    [Fact]
    public async Task ManyHealthCallsCostAtMostAFewStoreProbes()
    {
        // Each run of the API's Redis check is one PING; Redis counts them at once and exactly
        // (PostgreSQL's statistics lag by seconds). The PostgreSQL check goes through the same cache.
        async Task<long> PingsAsync()
        {
            var info = (string)(await app.Redis.ExecuteAsync("INFO", "commandstats"))!;
            var line = info.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_ping:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        }

        var before = await PingsAsync();
        var calls = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await app.Anonymous.GetAsync(ServiceDefaultsExtensions.HealthEndpointPath);
            return response.StatusCode;
        }));
        var after = await PingsAsync();

        Assert.All(calls, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(after - before <= 10, $"{after - before} PINGs for 200 /health calls");
    }

    private static async Task<HttpResponseMessage> UntilAsync(HttpStatusCode wanted, Func<Task<HttpResponseMessage>> send)
    {
        HttpResponseMessage? response = null;
        await Eventually.Async(async () =>
        {
            response?.Dispose();
            response = await send();
            return response.StatusCode != HttpStatusCode.TooManyRequests;
        }, TimeSpan.FromSeconds(10), () => "the bucket never refilled");
        Assert.Equal(wanted, response!.StatusCode);
        return response;
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
