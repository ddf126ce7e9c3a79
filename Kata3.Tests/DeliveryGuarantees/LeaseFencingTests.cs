using System.Diagnostics;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// A lease is the only licence to work on a job: a replica that was frozen past its lease learns
/// that it lost the job and records nothing, and a frozen Redis does not cost a live replica its
/// PostgreSQL leases.
/// </summary>
[Collection(FencingCollection.Name)]
public sealed class LeaseFencingTests(FencingApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan JobDuration = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task ReplicaFrozenPastItsLeaseLearnsItLostTheJobAndRecordsNoSecondOutcome()
    {
        await app.WaitForWorkersAtWorkAsync();
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("frozen-replica"));
        var victim = (await app.WaitForRunningOnReplicasAsync([accepted.JobId], 1, TimeSpan.FromSeconds(30)))[0].WorkerId;
        var pid = await app.WorkerPidAsync(victim, TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        await ProcessSignals.StopAsync(pid);
        try
        {
            // Frozen until another replica has taken the job over: the victim's lease lapsed meanwhile.
            await Eventually.Async(async () => (await app.RunningAttemptsAsync([accepted.JobId])).Any(r => r.WorkerId != victim),
                TimeSpan.FromSeconds(20), () => $"no other replica took job {accepted.JobId} from frozen {victim}");
        }
        finally
        {
            await ProcessSignals.ContinueAsync(pid);
        }
        var frozenFor = clock.Elapsed;
        output.WriteLine($"{victim} (pid {pid}) frozen for {frozenFor.TotalSeconds:0.00} s");
        Assert.True(frozenFor < JobDuration - TimeSpan.FromSeconds(4), "the job had too little work left to tell prompt learning apart");

        // It learns at its next renewal, long before its own work would have ended.
        IReadOnlyList<string> logs = [];
        await Eventually.Async(async () =>
        {
            logs = await app.GetLogsAsync(victim, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            return logs.Any(l => l.Contains($"Lost job {accepted.JobId}"));
        }, TimeSpan.FromSeconds(3), () => $"{victim} did not say it lost job {accepted.JobId}; its last lines:\n"
            + string.Join('\n', logs.TakeLast(15)));

        var order = await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(40), "completed", "failed");
        output.WriteLine(order.Describe());
        Assert.True(order.Status == "completed", order.Describe());
        var history = order.Job!.OrderedHistory;
        Assert.True(history.Count(a => a.Outcome == "completed") == 1, order.Describe());
        // The victim's attempt keeps the outcome the takeover gave it; the victim wrote nothing over it.
        var frozen = Assert.Single(history, a => a.WorkerId == victim);
        Assert.True(frozen.Outcome == "abandoned", order.Describe());
        Assert.True(history[^1].Outcome == "completed" && history[^1].WorkerId != victim, order.Describe());
        logs = await app.GetLogsAsync(victim, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(logs, l => l.Contains($"Completed job {accepted.JobId}"));

        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
        await app.WaitForWorkersAtWorkAsync();
    }

    [Fact]
    public async Task RedisFrozenPastALeaseDoesNotTakeALongJobFromItsLiveReplica()
    {
        await app.WaitForWorkersAtWorkAsync();
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("frozen-redis"));
        var holder = (await app.WaitForRunningOnReplicasAsync([accepted.JobId], 1, TimeSpan.FromSeconds(30)))[0].WorkerId;
        var redisPid = await app.RedisPidAsync(TimeSpan.FromSeconds(10));

        // Longer than two leases and than the Redis client's own timeout; the job still has work left after.
        var frozenFor = Lease * 2 + TimeSpan.FromSeconds(1);
        var lapses = new List<string>();
        await ProcessSignals.StopAsync(redisPid);
        try
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < frozenFor)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
                if (await LeaseLeftAsync(accepted.JobId) is var left && left <= TimeSpan.Zero)
                {
                    lapses.Add($"{clock.Elapsed.TotalSeconds:0.00} s into the freeze: lease {left.TotalSeconds:0.00} s");
                }
            }
        }
        finally
        {
            await ProcessSignals.ContinueAsync(redisPid);
        }
        output.WriteLine($"Redis (pid {redisPid}) frozen for {frozenFor.TotalSeconds:0.00} s while {holder} held job {accepted.JobId}");
        Assert.True(lapses.Count == 0, $"{holder}'s PostgreSQL lease lapsed while Redis was frozen: {string.Join("; ", lapses)}");

        var order = await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(40), "completed", "failed");
        output.WriteLine(order.Describe());
        Assert.True(order.Status == "completed" && order.Job!.Attempts == 1, order.Describe());
        var attempt = Assert.Single(order.Job.OrderedHistory);
        Assert.True(attempt.Outcome == "completed" && attempt.WorkerId == holder, order.Describe());

        await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId]);
        await app.WaitForWorkersAtWorkAsync();
    }

    /// <summary>How long the job's lease has left by PostgreSQL's clock (negative once lapsed, zero without a lease).</summary>
    private async Task<TimeSpan> LeaseLeftAsync(Guid jobId)
    {
        await using var command = app.Database.CreateCommand("""
            SELECT coalesce(extract(epoch FROM lease_expires_at - now()), 0)::float8 FROM jobs WHERE id = @job_id
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        return TimeSpan.FromSeconds((double)(await command.ExecuteScalarAsync())!);
    }
}
