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
        // Kata3App waits for the API to be healthy and posts nothing: this is the first order. The
        // test's own client is warmed first on /alive, which touches neither store.
        using (var alive = await app.Api.GetAsync(ServiceDefaultsExtensions.AlivenessEndpointPath))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }
        var timings = new List<TimeSpan>();
        for (var i = 0; i < 11; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await app.Api.PostAsJsonAsync("/orders", new { product = $"first-{i}", quantity = 1, price = 1m });
            timings.Add(clock.Elapsed);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var first = timings[0];
        var median = timings.Skip(1).Order().ElementAt(5);
        output.WriteLine($"first POST {first.TotalMilliseconds:0.0} ms, median of the next ten {median.TotalMilliseconds:0.0} ms");
        Assert.True(first <= MaxFirstRequest || first <= median * 10,
            $"the first POST took {first.TotalMilliseconds:0} ms, the next ones {median.TotalMilliseconds:0.0} ms (median)");
    }
}
