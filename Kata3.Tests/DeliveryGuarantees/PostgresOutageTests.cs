using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>Without PostgreSQL nothing can be made durable, so nothing is accepted; what was accepted survives.</summary>
[Collection(OutageCollection.Name)]
public sealed class PostgresOutageTests(OutageApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task WhilePostgresIsDownPostsAreRefusedWith503AndWriteNothingAndEveryOrderAcceptedBeforeOrAfterCompletes()
    {
        await app.WaitForWorkersAtWorkAsync();
        var before = new List<OrderAcceptedBody>();
        for (var i = 0; i < 4; i++)
        {
            before.Add(await app.PostAcceptedOrderAsync(OrderRequests.Order($"pg-before-{i}")));
        }
        var accepted = before.Select(a => a.OrderId).ToList();

        try
        {
            // Stop PostgreSQL while both replicas hold one of these 2 s jobs. It shuts down "smart" first:
            // sessions already open go on working until it is gone, so orders keep coming while it
            // stops, and some are surely in the replicas' hands at the moment it dies.
            await app.WaitForRunningOnReplicasAsync(before.Select(a => a.JobId).ToArray(), app.Workers, TimeSpan.FromSeconds(30));
            app.Database.Clear(); // our idle connections would hold up PostgreSQL's shutdown
            var clock = Stopwatch.StartNew();
            var stopping = app.StopAndWaitForExitAsync(ResourceNames.DatabaseServer, TimeSpan.FromSeconds(60));
            var (acceptedWhileStopping, refusedWhileStopping) = (0, 0);
            while (!stopping.IsCompleted)
            {
                using var response = await app.SendOrderAsync(OrderRequests.Order("pg-stopping"));
                if (await AcceptedOrRefusedAsync(response) is { } orderId)
                {
                    accepted.Add(orderId);
                    acceptedWhileStopping++;
                }
                else
                {
                    refusedWhileStopping++;
                }
                // About as fast as two replicas take 2 s jobs: they stay busy without a long backlog.
                await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(1)));
            }
            await stopping;
            var diedBy = DateTimeOffset.UtcNow;
            output.WriteLine($"PostgreSQL exited {clock.Elapsed.TotalSeconds:0.00} s after the stop; meanwhile {acceptedWhileStopping} POST(s) accepted, {refusedWhileStopping} refused");

            var marker = $"pg-down-{Guid.NewGuid():N}";
            for (var i = 0; i < 3; i++)
            {
                using var response = await app.SendOrderAsync(OrderRequests.Order(marker));
                Assert.Null(await AcceptedOrRefusedAsync(response));
            }

            await app.StartAndWaitForHealthyAsync(ResourceNames.DatabaseServer, Kata3App.DefaultTimeout);
            await app.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Database).WaitAsync(Kata3App.DefaultTimeout);
            clock.Restart();
            app.Database.Clear();
            await Eventually.Async(CanQueryAsync, TimeSpan.FromSeconds(30), () => "the test cannot reach PostgreSQL again");

            // A client that follows Retry-After gets in soon after; a 500 is never an answer.
            var refused = 0;
            await Eventually.Async(async () =>
            {
                using var response = await app.SendOrderAsync(OrderRequests.Order("pg-after-0"));
                if (await AcceptedOrRefusedAsync(response) is not { } orderId)
                {
                    refused++;
                    return false;
                }
                accepted.Add(orderId);
                return true;
            }, TimeSpan.FromSeconds(15), () => $"no POST accepted within 15 s of PostgreSQL being healthy ({refused} refused)");
            output.WriteLine($"first POST accepted {clock.Elapsed.TotalSeconds:0.00} s after PostgreSQL was healthy, after {refused} refusal(s)");
            for (var i = 1; i < 3; i++)
            {
                accepted.Add((await app.PostAcceptedOrderAsync(OrderRequests.Order($"pg-after-{i}"))).OrderId);
            }

            await DeliveryInvariant.AssertHoldsAsync(app, accepted, TimeSpan.FromSeconds(90));
            output.WriteLine($"all {accepted.Count} orders finished {clock.Elapsed.TotalSeconds:0.00} s after PostgreSQL was healthy again");
            foreach (var id in accepted)
            {
                var order = await app.GetOrderAsync(id);
                Assert.True(order.Status == "completed", order.Describe());
            }

            // The jobs that were in a replica's hands when PostgreSQL died: an attempt started before and
            // not finished before. They completed too (checked above).
            var inHand = await OrdersWithAnAttemptSpanningAsync(accepted, diedBy);
            Assert.True(inHand.Count > 0, "no job was in hand when PostgreSQL died: the test did not test that case");
            foreach (var id in inHand)
            {
                output.WriteLine("in hand when PostgreSQL died: " + (await app.GetOrderAsync(id)).Describe());
            }
            await using (var command = app.Database.CreateCommand("SELECT count(*) FROM orders WHERE product = @marker"))
            {
                command.Parameters.AddWithValue("marker", marker);
                Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
            }

            // Leave the app as found: every replica healthy again.
            await app.WaitForWorkersAtWorkAsync();
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.DatabaseServer, output.WriteLine);
        }
    }

    /// <summary>The order id of a 202, or null for a 503 with Retry-After and problem details; anything else fails.</summary>
    private static async Task<Guid?> AcceptedOrRefusedAsync(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            return (await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!.OrderId;
        }
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
            $"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.True(response.Headers.RetryAfter is not null, "503 without Retry-After");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return null;
    }

    private async Task<IReadOnlyList<Guid>> OrdersWithAnAttemptSpanningAsync(IEnumerable<Guid> orderIds, DateTimeOffset moment)
    {
        await using var command = app.Database.CreateCommand("""
            SELECT DISTINCT j.order_id FROM job_attempts a JOIN jobs j ON j.id = a.job_id
            WHERE j.order_id = ANY(@ids) AND a.started_at < @moment AND (a.finished_at IS NULL OR a.finished_at > @moment)
            """);
        command.Parameters.AddWithValue("ids", orderIds.ToArray());
        command.Parameters.AddWithValue("moment", moment);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    private async Task<bool> CanQueryAsync()
    {
        try
        {
            await using var command = app.Database.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }
}
