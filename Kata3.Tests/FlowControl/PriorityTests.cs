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
        double MeanRank(string priority) => posted.Where(p => p.Priority == priority).Average(p => started.IndexOf(p.OrderId));

        // The starvation guard may let one lower job go early, so compare average places.
        Assert.True(MeanRank("high") < MeanRank("normal"), $"high {MeanRank("high")} vs normal {MeanRank("normal")}");
        Assert.True(MeanRank("normal") < MeanRank("low"), $"normal {MeanRank("normal")} vs low {MeanRank("low")}");
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
