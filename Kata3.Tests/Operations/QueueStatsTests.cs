using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kata3.Tests.Operations;

/// <summary>GET /jobs/stats, /jobs/throughput and the queue's gauges against the stores, in one scripted scenario.</summary>
public sealed class QueueStatsTests(QueueStatsApp app, ITestOutputHelper output) : IClassFixture<QueueStatsApp>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StatsAndGaugesMatchTheStoresWithJobsInEveryState()
    {
        // Dead, waiting for a retry, set aside as poison: each while a slot is free.
        var dead = await app.PostAcceptedOrderAsync(OrderRequests.Order("stats-dead"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));
        var retrying = await app.PostAcceptedOrderAsync(OrderRequests.Order("stats-retry"), (FailureSimulationOptions.HeaderName, "1"));
        await app.Redis.ListLeftPushAsync(QueueKeys.Ready, $"not a job {Guid.NewGuid()}");
        var completed = await app.PostAcceptedOrderAsync(OrderRequests.Order("stats-completed"));
        await app.WaitForOrderAsync(dead.OrderId, Timeout, "failed");
        await app.WaitForOrderAsync(completed.OrderId, Timeout, "completed");
        await Eventually.Async(async () => await JobStatusAsync(retrying.JobId) == "queued" && await AttemptsAsync(retrying.JobId) == 1,
            Timeout, () => "the failed job is not waiting for its retry");
        await Eventually.Async(async () => await app.Redis.ListLengthAsync(QueueKeys.Poison) == 1, Timeout, () => "no poison entry");

        // Both slots held by jobs that hang; what comes next waits in the ready lists.
        var running = new[]
        {
            await app.PostAcceptedOrderAsync(OrderRequests.Order("stats-hang-1"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.HangValue)),
            await app.PostAcceptedOrderAsync(OrderRequests.Order("stats-hang-2"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.HangValue)),
        };
        foreach (var order in running)
        {
            await Eventually.Async(async () => await JobStatusAsync(order.JobId) == "processing", Timeout, () => $"{order.JobId} is not processing");
        }
        for (var i = 0; i < 3; i++)
        {
            await app.PostOrderAsync($"stats-ready-{i}");
        }
        await app.PostOrderAsync("stats-ready-high", priority: JobPriority.High);

        var stats = await ReadStatsAsync();
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(stats));
        Assert.Equal(new Dictionary<string, long> { ["high"] = 1, ["normal"] = 3, ["low"] = 0 }, stats.Ready);
        Assert.Equal(2, stats.Processing);
        Assert.Equal(1, stats.Retrying);
        Assert.Equal(0, stats.Scheduled);
        Assert.Equal(await app.CountAsync("SELECT count(*) FROM jobs WHERE status = 'dead'"), stats.Dead);
        Assert.Equal(1, stats.Dead);
        Assert.Equal(1, stats.Poison);
        Assert.Empty(stats.Paused);
        var replica = Assert.Single(stats.Replicas);
        Assert.True(replica.Alive);
        Assert.Equal(2, replica.InHand);
        Assert.Equal(running.Select(o => o.JobId).Order(), replica.Jobs.Order());
        var oldestReady = await app.CountAsync("SELECT extract(epoch FROM now() - min(run_at))::bigint FROM jobs WHERE status = 'queued' AND run_at <= now()");
        Assert.InRange(stats.OldestReadySeconds, Math.Max(0, oldestReady - 2), oldestReady + 2);

        // The gauges say the same, once, from the API alone.
        app.Telemetry.ClearPoints();
        await Eventually.Async(() => Task.FromResult(
            Gauge("kata3.queue.processing") == 2
            && Gauge("kata3.queue.ready", ("priority", "normal")) == 3
            && Gauge("kata3.queue.ready", ("priority", "high")) == 1
            && Gauge("kata3.queue.ready", ("priority", "low")) == 0
            && Gauge("kata3.queue.waiting", ("reason", "retry")) == 1
            && Gauge("kata3.queue.waiting", ("reason", "scheduled")) == 0
            && Gauge("kata3.queue.dead") == 1
            && Gauge("kata3.queue.poison") == 1
            && Gauge("kata3.queue.replicas") == 1
            && Gauge("kata3.queue.paused", ("priority", "normal")) == 0
            && Gauge("kata3.queue.oldest_ready_age") >= 0),
            Timeout, () => "gauges: " + string.Join("; ", new[] { "kata3.queue.processing", "kata3.queue.ready", "kata3.queue.waiting", "kata3.queue.dead", "kata3.queue.poison", "kata3.queue.replicas" }
                .SelectMany(app.Telemetry.PointsOf).Select(p => $"{p.Metric}{{{string.Join(",", p.Attributes)}}}={p.Value}")));
        Assert.Equal(3, app.Telemetry.PointsOf("kata3.queue.ready").Count);

        // The worker's counters saw the same story: one retry, one dead attempt, no rescue or timeout.
        await Eventually.Async(() => Task.FromResult(
            Gauge("kata3.job.retries") == 1 && Gauge("kata3.job.processed", ("outcome", "dead")) == 1),
            Timeout, () => "counters: " + string.Join("; ", new[] { "kata3.job.retries", "kata3.job.processed" }
                .SelectMany(app.Telemetry.PointsOf).Select(p => $"{p.Metric}{{{string.Join(",", p.Attributes)}}}={p.Value}")));
        Assert.DoesNotContain(app.Telemetry.PointsOf("kata3.job.rescues"), p => p.Value > 0);
        Assert.DoesNotContain(app.Telemetry.PointsOf("kata3.job.timeouts"), p => p.Value > 0);

        // Paused: the stats and the gauge say which priority.
        using (var pause = await app.Api.PostAsync("/jobs/pause?priority=low", null))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        }
        try
        {
            Assert.Equal(["low"], (await ReadStatsAsync()).Paused);
            await Eventually.Async(() => Task.FromResult(
                Gauge("kata3.queue.paused", ("priority", "low")) == 1 && Gauge("kata3.queue.paused", ("priority", "high")) == 0),
                Timeout, () => "the paused gauge does not show low paused");
        }
        finally
        {
            using var resume = await app.Api.PostAsync("/jobs/resume", null);
        }
        Assert.Empty((await ReadStatsAsync()).Paused);

        // Throughput: this minute (or the last, across a minute's turn) holds the completed and the dead job.
        var minutes = await app.Api.GetFromJsonAsync<List<ThroughputMinuteBody>>("/jobs/throughput?minutes=5");
        Assert.Equal(5, minutes!.Count);
        Assert.True(minutes.Zip(minutes.Skip(1)).All(p => p.Second.Minute - p.First.Minute == TimeSpan.FromMinutes(1)), "minutes not consecutive");
        Assert.True(minutes.Sum(m => m.Completed) >= 1 && minutes.Sum(m => m.Failed) >= 1, string.Join(", ", minutes));

        // Purging the poison list empties it and says how much it held.
        using (var purge = await app.Api.DeleteAsync("/jobs/poison"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
            Assert.Equal(1, (await purge.Content.ReadFromJsonAsync<PurgedBody>())!.Purged);
        }
        Assert.Equal(0, await app.Redis.ListLengthAsync(QueueKeys.Poison));
        Assert.Equal(0, (await ReadStatsAsync()).Poison);
    }

    [Theory]
    [InlineData("/jobs/throughput?minutes=0", "minutes")]
    [InlineData("/jobs/throughput?minutes=61", "minutes")]
    [InlineData("/jobs/throughput?minutes=ten", "minutes")]
    public async Task OutOfRangeArgumentsAre400NamingTheField(string path, string field)
    {
        using var response = await app.Api.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"{field}\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "/jobs/stats")]
    [InlineData("GET", "/jobs/throughput")]
    [InlineData("DELETE", "/jobs/poison")]
    [InlineData("POST", "/jobs/demo")]
    [InlineData("POST", "/jobs/pause")]
    [InlineData("POST", "/jobs/resume")]
    public async Task OperationsNeedTheOperatorKey(string method, string path)
    {
        using var response = await app.Anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<QueueStatsBody> ReadStatsAsync() => (await app.Api.GetFromJsonAsync<QueueStatsBody>("/jobs/stats"))!;

    private double? Gauge(string metric, params (string Key, string Value)[] attributes) =>
        app.Telemetry.PointsOf(metric, attributes).Select(p => (double?)p.Value).SingleOrDefault();

    private async Task<string?> JobStatusAsync(Guid jobId)
    {
        await using var command = app.Database.CreateCommand("SELECT status FROM jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        return (string?)await command.ExecuteScalarAsync();
    }

    private async Task<long> AttemptsAsync(Guid jobId) => await app.CountAsync($"SELECT attempts FROM jobs WHERE id = '{jobId}'");
}

public sealed record QueueStatsBody(DateTimeOffset At, Dictionary<string, long> Ready, long Processing, long Retrying, long Scheduled,
    long Dead, long Poison, double OldestReadySeconds, IReadOnlyList<string> Paused, IReadOnlyList<ReplicaBody> Replicas);
public sealed record ReplicaBody(string WorkerId, bool Alive, long InHand, IReadOnlyList<Guid> Jobs);
public sealed record ThroughputMinuteBody(DateTimeOffset Minute, long Completed, long Failed);
public sealed record PurgedBody(long Purged);
