using System.Net;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>Transient failures are retried with back-off, up to Retry:MaxAttempts (3 in this app).</summary>
[Collection(RetryCollection.Name)]
public sealed class RetryTests(RetryApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task JobThatFailsTwiceIsRetriedAndCompletedOnItsThirdAttempt()
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("fails-twice"), (FailureSimulationOptions.HeaderName, "2"));

        var order = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        output.WriteLine(order.Describe());

        var job = order.Job!;
        Assert.True(order.Status == "completed" && job.Status == "completed", order.Describe());
        Assert.Equal(3, job.Attempts);
        Assert.Equal(3, job.MaxAttempts);
        var history = job.OrderedHistory;
        Assert.Equal([1, 2, 3], history.Select(a => a.Attempt));
        Assert.Equal(["failed", "failed", "completed"], history.Select(a => a.Outcome));
        Assert.All(history.Take(2), a => Assert.False(string.IsNullOrWhiteSpace(a.Error), $"failed attempt {a.Attempt} without an error"));
        Assert.Null(history[2].Error);
        for (var i = 1; i < history.Count; i++)
        {
            // A retry starts only after the failed attempt has finished, never overlapping it.
            Assert.True(history[i].StartedAt > history[i - 1].StartedAt, order.Describe());
            Assert.True(history[i - 1].FinishedAt is { } finished && history[i].StartedAt >= finished, order.Describe());
        }
        Assert.All(history, a => Assert.StartsWith($"{ResourceNames.Worker}-", a.WorkerId));
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }

    [Fact]
    public async Task JobThatKeepsFailingIsDeadAfterMaxAttemptsAndItsOrderFailed()
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("fails-five-times"), (FailureSimulationOptions.HeaderName, "5"));

        var order = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        output.WriteLine(order.Describe());

        Assert.True(order.Status == "failed" && order.Job!.Status == "dead", order.Describe());
        Assert.Null(order.CompletedAt);
        Assert.Equal(3, order.Job.Attempts);
        Assert.False(string.IsNullOrWhiteSpace(order.Job.Error));
        Assert.Null(order.Job.NextAttemptAt);
        Assert.Equal(["failed", "failed", "dead"], order.Job.OrderedHistory.Select(a => a.Outcome));
        Assert.All(order.Job.OrderedHistory, a => Assert.False(string.IsNullOrWhiteSpace(a.Error), $"attempt {a.Attempt} without an error"));
        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("permanently")]
    public async Task InvalidSimulateFailureHeaderIsRefusedWith400AndWritesNothing(string value)
    {
        var marker = $"bad-simulation-{Guid.NewGuid():N}";

        using var response = await app.SendOrderAsync(OrderRequests.Order(marker), (FailureSimulationOptions.HeaderName, value));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest,
            $"'{value}' answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await using var command = app.Database.CreateCommand("SELECT count(*) FROM orders WHERE product = @marker");
        command.Parameters.AddWithValue("marker", marker);
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }
}
