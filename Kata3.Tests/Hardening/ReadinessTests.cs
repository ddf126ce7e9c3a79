using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.Hardening;

/// <summary>
/// The API reports healthy only once it is warm: the first order a freshly started API process
/// gets after /health turns green is answered about as fast as the ones after it, not after a
/// second of cold start.
/// </summary>
[Collection(OneWorkerCollection.Name)]
public sealed class ReadinessTests(OneWorkerApp app, ITestOutputHelper output)
{
    // Generous: far above a warmed first request, far below a cold one (which compiles the whole path).
    private static readonly TimeSpan MaxFirstRequest = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task TheFirstOrderAfterHealthyIsAnsweredAsFastAsTheNext()
    {
        // A new API process, started as the dashboard's buttons do; once it is healthy, the next
        // order is its first. The test's own client is warmed first on /alive, which touches neither store.
        try
        {
            await app.StopAndWaitForExitAsync(ResourceNames.Api, Kata3App.DefaultTimeout);
            await app.StartAndWaitForHealthyAsync(ResourceNames.Api, Kata3App.DefaultTimeout);
        }
        finally
        {
            // The other tests of the collection need the API, whatever happened here.
            await app.RestoreAsync(ResourceNames.Api, output.WriteLine);
        }
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
