using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.FlowControl;

/// <summary>Priorities: high before normal before low, and a guard against starvation.</summary>
public sealed class PriorityTests(PriorityApp app) : IClassFixture<PriorityApp>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task HigherPriorityJobsWaitingTogetherAreTakenFirst()
    {
        // With the only replica stopped, every job is waiting when it comes back.
        var posted = await WhileWorkersAreStoppedAsync(async () =>
        {
            var list = new List<(string Priority, Guid OrderId)>();
            foreach (var priority in new[] { "low", "normal", "high", "low", "normal", "high", "low", "normal", "high" })
            {
                list.Add((priority, await PostAsync(priority)));
            }
            return list;
        });

        var started = await StartOrderAsync(posted.Select(p => p.OrderId));
        int MiddleRank(string priority) => posted.Where(p => p.Priority == priority).Select(p => started.IndexOf(p.OrderId)).Order().ElementAt(1);

        // The starvation guard (every 5th take looks at normal first, every 10th at low, counted in
        // Redis since the app started) may let one job of each lower priority go early: compare
        // each priority's middle place. Not the average: a low job let go first and a normal one
        // let go early can tie the averages (normal 4, 5, 6 and low 0, 7, 8).
        Assert.True(MiddleRank("high") < MiddleRank("normal"), $"high {MiddleRank("high")} vs normal {MiddleRank("normal")}: {string.Join(", ", Places())}");
        Assert.True(MiddleRank("normal") < MiddleRank("low"), $"normal {MiddleRank("normal")} vs low {MiddleRank("low")}: {string.Join(", ", Places())}");
        IEnumerable<string> Places() => started.Select(id => posted.Single(p => p.OrderId == id).Priority);
        await DeliveryInvariant.AssertHoldsAsync(app, posted.Select(p => p.OrderId));
    }

    [Fact]
    public async Task LowPriorityJobsAreNotStarvedByAStreamOfHighOnes()
    {
        var posted = await WhileWorkersAreStoppedAsync(async () =>
        {
            var list = new List<(string Priority, Guid OrderId)>();
            for (var i = 0; i < 20; i++)
            {
                list.Add(("high", await PostAsync("high")));
            }
            list.Add(("low", await PostAsync("low")));
            return list;
        });

        var started = await StartOrderAsync(posted.Select(p => p.OrderId));

        // Every tenth fetch looks at the low list first: the low job runs among the first ten.
        var lowRank = started.IndexOf(posted.Single(p => p.Priority == "low").OrderId);
        Assert.True(lowRank < 10, $"the low job started {lowRank + 1}th of {started.Count}");
        await DeliveryInvariant.AssertHoldsAsync(app, posted.Select(p => p.OrderId));
    }

    [Fact]
    public async Task UnknownPriorityIsRefused()
    {
        var response = await app.Api.PostAsJsonAsync("/orders", new { product = "x", quantity = 1, price = 1, priority = "urgent" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"priority\"", await response.Content.ReadAsStringAsync());
    }

    private async Task<Guid> PostAsync(string priority) =>
        (await app.PostOrderAsync($"prio-{priority}", price: 1, priority: priority)).OrderId;

    private async Task<T> WhileWorkersAreStoppedAsync<T>(Func<Task<T>> post)
    {
        await app.StopAndWaitForExitAsync(ResourceNames.Worker, Timeout);
        try
        {
            return await post();
        }
        finally
        {
            await app.StartAndWaitForHealthyAsync(ResourceNames.Worker, Timeout);
        }
    }

    // The orders, in the order their jobs started.
    private async Task<List<Guid>> StartOrderAsync(IEnumerable<Guid> orderIds)
    {
        var orders = new List<OrderBody>();
        foreach (var id in orderIds)
        {
            orders.Add(await app.WaitForOrderAsync(id, Timeout, "completed"));
        }
        return orders.OrderBy(o => o.Job!.StartedAt).Select(o => o.OrderId).ToList();
    }
}
