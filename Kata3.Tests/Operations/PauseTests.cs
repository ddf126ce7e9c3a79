using System.Net;
using System.Net.Http.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Kata3.Tests.Operations;

/// <summary>
/// POST /jobs/pause and /jobs/resume: a paused priority keeps its jobs waiting (orders are still
/// accepted), the others run, resuming starts them at once, and the pause outlives a worker
/// restart and a Redis that lost its copy.
/// </summary>
[Collection(OperationsCollection.Name)]
public sealed class PauseTests(OperationsApp app, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    // Longer than a sweep (1 s) and a blocking fetch's wait (2 s): a pause that leaked would show.
    private static readonly TimeSpan Held = TimeSpan.FromSeconds(3);

    public Task InitializeAsync() => Task.CompletedTask;

    // Every test leaves the queue running, whatever happened.
    public async Task DisposeAsync() => await app.PostAsync("/jobs/resume");

    [Fact]
    public async Task PausingEverythingKeepsNewOrdersWaitingUntilResumed()
    {
        Assert.Equal(JobPriority.All, await PauseAsync(null));
        Assert.Equal(JobPriority.All.Order(), (await app.Redis.SetMembersAsync(QueueKeys.Paused)).Select(v => v.ToString()).Where(m => m != QueueKeys.PausedKnownMarker).Order());
        Assert.Equal(3, await app.CountRowsAsync("queue_pauses"));

        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("paused-all"));
        await StaysWaitingAsync(accepted.JobId);

        await AssertStartsSoonAfterResumeAsync(null, accepted.JobId);
        await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");
    }

    [Fact]
    public async Task PausingLowLetsHighAndNormalRun()
    {
        Assert.Equal([JobPriority.Low], await PauseAsync(JobPriority.Low));

        var low = await app.PostOrderAsync("paused-low", priority: JobPriority.Low);
        var normal = await app.PostOrderAsync("running-normal", priority: JobPriority.Normal);
        var high = await app.PostOrderAsync("running-high", priority: JobPriority.High);

        await app.WaitForOrderAsync(normal.OrderId, Timeout, "completed");
        await app.WaitForOrderAsync(high.OrderId, Timeout, "completed");
        await StaysWaitingAsync(low.JobId);

        await AssertStartsSoonAfterResumeAsync(JobPriority.Low, low.JobId);
        await app.WaitForOrderAsync(low.OrderId, Timeout, "completed");
    }

    [Fact]
    public async Task PauseOutlivesAWorkerRestart()
    {
        await PauseAsync(null);
        try
        {
            await app.StopAndWaitForExitAsync(ResourceNames.Worker, Timeout);
            await app.StartAndWaitForHealthyAsync(ResourceNames.Worker, Timeout);
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.Worker, output.WriteLine);
        }

        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("paused-restart"));
        await StaysWaitingAsync(accepted.JobId);

        await AssertStartsSoonAfterResumeAsync(null, accepted.JobId);
    }

    [Fact]
    public async Task PauseIsRestoredWhenRedisLosesTheQueue()
    {
        await PauseAsync(null);
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("paused-flush"));
        await StaysWaitingAsync(accepted.JobId);

        // What a Redis that restarted empty holds of the queue: nothing. One script, so no fetch
        // sees the job's entry without the paused set.
        RedisKey[] keys = [QueueKeys.Paused, QueueKeys.Enqueued, .. JobPriority.All.Select(p => (RedisKey)QueueKeys.ReadyFor(p))];
        await app.Redis.ScriptEvaluateAsync("return redis.call('DEL', unpack(KEYS))", keys);

        // The sweeper copies the pause back before it pushes the job Redis lost, so it never runs.
        await Eventually.Async(async () => await app.Redis.SetLengthAsync(QueueKeys.Paused) == 1 + 3
                && await app.Redis.SetContainsAsync(QueueKeys.Enqueued, accepted.JobId.ToString()),
            TimeSpan.FromSeconds(10), () => "the sweeper did not restore the pause and the job's entry");
        await StaysWaitingAsync(accepted.JobId);

        await AssertStartsSoonAfterResumeAsync(null, accepted.JobId);
    }

    [Fact]
    public async Task OrderPostedBeforeTheSweeperRestoresAPauseRedisLostDoesNotStart()
    {
        await PauseAsync(null);

        // Redis lost the paused set (it restarted empty); before the next sweep copies it back, an
        // order is pushed and the idle replica wakes: it must not read "no set" as "nothing paused".
        await app.Redis.KeyDeleteAsync(QueueKeys.Paused);
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("paused-unknown"));
        await StaysWaitingAsync(accepted.JobId);

        await AssertStartsSoonAfterResumeAsync(null, accepted.JobId);
    }

    [Theory]
    [InlineData("/jobs/pause?priority=bogus")]
    [InlineData("/jobs/resume?priority=HIGH")]
    [InlineData("/jobs/pause?priority=")]
    public async Task UnknownPriorityIsRefusedNamingIt(string path)
    {
        using var response = await app.PostAsync(path);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} answered {(int)response.StatusCode}: {body}");
        Assert.Contains("\"priority\"", body);
        Assert.Equal(0, await app.CountRowsAsync("queue_pauses"));
    }

    [Theory]
    [InlineData("/jobs/pause")]
    [InlineData("/jobs/resume?priority=low")]
    public async Task AnonymousCannotPauseOrResume(string path)
    {
        using var response = await app.Anonymous.PostAsync(path, content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await app.CountRowsAsync("queue_pauses"));
    }

    private async Task<IReadOnlyList<string>> PauseAsync(string? priority)
    {
        using var response = await app.PostAsync(priority is null ? "/jobs/pause" : $"/jobs/pause?priority={priority}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PausedBody>())!.Paused;
    }

    private Task StaysWaitingAsync(Guid jobId)
    {
        JobTimes.JobState? last = null;
        return JobTimes.StaysAsync(async () =>
        {
            last = await app.JobStateAsync(jobId);
            return last.Status == JobStatus.Queued && last.StartedAt is null;
        }, Held, () => $"job {jobId} of a paused priority started: {last}");
    }

    // Resuming wakes the idle replica: the job starts well within a second by PostgreSQL's clock.
    private async Task AssertStartsSoonAfterResumeAsync(string? priority, Guid jobId)
    {
        var before = await app.DatabaseNowAsync();
        using var response = await app.PostAsync(priority is null ? "/jobs/resume" : $"/jobs/resume?priority={priority}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await response.Content.ReadFromJsonAsync<PausedBody>())!.Paused);

        JobTimes.JobState? last = null;
        await Eventually.Async(async () => (last = await app.JobStateAsync(jobId)).StartedAt is not null,
            TimeSpan.FromSeconds(10), () => $"job {jobId} did not start after resume: {last}");
        var delay = last!.StartedAt!.Value - before;
        output.WriteLine($"job {jobId} started {delay.TotalMilliseconds:0} ms after resume");
        Assert.True(delay < TimeSpan.FromSeconds(1), $"job {jobId} started {delay.TotalMilliseconds:0} ms after resume");
    }

    private sealed record PausedBody(IReadOnlyList<string> Paused);
}
