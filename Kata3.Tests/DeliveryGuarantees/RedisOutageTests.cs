using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>PostgreSQL is the source of truth: losing Redis, queue and all, loses no order.</summary>
[Collection(OutageCollection.Name)]
public sealed class RedisOutageTests(OutageApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task OrdersPostedWhileRedisIsDownAreAcceptedAndEveryOrderCompletesAfterRedisComesBackEmpty()
    {
        await app.WaitForWorkersAtWorkAsync();
        var accepted = new List<Guid>();
        // Four 2 s jobs on two replicas: two in hand and two waiting in Redis when it goes.
        for (var i = 0; i < 4; i++)
        {
            accepted.Add((await app.PostAcceptedOrderAsync(OrderRequests.Order($"redis-before-{i}"))).OrderId);
        }

        try
        {
            await app.StopAndWaitForExitAsync(ResourceNames.Redis, TimeSpan.FromSeconds(30));
            var clock = Stopwatch.StartNew();
            var during = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => app.SendOrderAsync(OrderRequests.Order($"redis-down-{i}"))));
            output.WriteLine($"3 POSTs with Redis down answered in {clock.Elapsed.TotalSeconds:0.00} s: {string.Join(", ", during.Select(r => (int)r.StatusCode))}");
            foreach (var response in during)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Accepted,
                    $"POST with Redis down answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                accepted.Add((await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!.OrderId);
                response.Dispose();
            }

            // A fresh, empty Redis (the tests' Redis keeps no data across restarts).
            await app.StartAndWaitForHealthyAsync(ResourceNames.Redis, Kata3App.DefaultTimeout);
            clock.Restart();
            await Eventually.Async(async () =>
            {
                try
                {
                    await app.Redis.PingAsync();
                    return true;
                }
                catch (RedisException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), () => "the test's own Redis connection did not come back");

            for (var i = 0; i < 2; i++)
            {
                accepted.Add((await app.PostAcceptedOrderAsync(OrderRequests.Order($"redis-after-{i}"))).OrderId);
            }

            await DeliveryInvariant.AssertHoldsAsync(app, accepted, TimeSpan.FromSeconds(90));
            output.WriteLine($"all {accepted.Count} orders finished {clock.Elapsed.TotalSeconds:0.00} s after Redis was healthy again");
            foreach (var id in accepted)
            {
                var order = await app.GetOrderAsync(id);
                Assert.True(order.Status == "completed", order.Describe());
                output.WriteLine(order.Describe());
            }

            // Leave the app as found: every replica healthy again.
            await app.WaitForWorkersAtWorkAsync();
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.Redis, output.WriteLine);
        }
    }
}
