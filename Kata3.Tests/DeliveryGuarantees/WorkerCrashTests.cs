using System.Diagnostics;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>A replica killed with SIGKILL loses nothing: its lease runs out and another replica takes over.</summary>
[Collection(WorkerFailureCollection.Name)]
public sealed class WorkerCrashTests(WorkerFailureApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan MaxRecovery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task JobOfAKilledReplicaIsCompletedByAnotherReplicaWithinSecondsAndNothingIsDoneTwice()
    {
        await app.WaitForWorkersAtWorkAsync();
        // 5 s jobs for all replicas but one, so the recovery measured is the detection, not a wait for a free replica.
        var accepted = new List<OrderAcceptedBody>();
        for (var i = 0; i < app.Workers - 1; i++)
        {
            accepted.Add(await app.PostAcceptedOrderAsync(OrderRequests.Order($"sigkill-{i}")));
        }
        var jobIds = accepted.Select(a => a.JobId).ToArray();

        try
        {
            // The victim is the first replica seen running one of them, killed long before its 5 s are up.
            var victim = (await app.WaitForRunningOnReplicasAsync(jobIds, 1, TimeSpan.FromSeconds(30)))[0].WorkerId;
            var pid = await app.WorkerPidAsync(victim, TimeSpan.FromSeconds(10));
            var held = (await app.RunningAttemptsAsync(jobIds)).Where(r => r.WorkerId == victim).Select(r => r.JobId).ToList();
            Assert.NotEmpty(held);
            var rescuedBefore = Rescued();
            using (var process = Process.GetProcessById(pid))
            {
                process.Kill(); // SIGKILL: no shutdown code runs, the job stays "processing" under a lease nobody renews
                Assert.True(process.WaitForExit(5_000), $"process {pid} of {victim} did not die");
            }
            var killedAt = DateTimeOffset.UtcNow;
            output.WriteLine($"killed {victim} (pid {pid}) at {killedAt:HH:mm:ss.fff} holding {string.Join(", ", held)}");
            await app.WaitForExitAsync(ResourceNames.Worker, victim, Kata3App.DefaultTimeout);

            foreach (var jobId in held)
            {
                var orderId = accepted.Single(a => a.JobId == jobId).OrderId;
                var order = await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed", "failed");
                var history = order.Job!.OrderedHistory;
                Assert.True(order.Status == "completed", order.Describe());
                var abandoned = Assert.Single(history, a => a.WorkerId == victim);
                Assert.True(abandoned.Outcome == "abandoned", order.Describe());
                var next = history.First(a => a.Attempt > abandoned.Attempt);
                var last = history[^1];
                Assert.True(last.Outcome == "completed" && last.WorkerId != victim, order.Describe());
                Assert.Equal(order.Job.WorkerId, last.WorkerId);

                var recovery = next.StartedAt - killedAt;
                output.WriteLine($"job {jobId}: recovery after SIGKILL (kill → next attempt started on {next.WorkerId}) = {recovery.TotalSeconds:0.00} s");
                output.WriteLine(order.Describe());
                Assert.True(recovery <= MaxRecovery, $"recovery took {recovery.TotalSeconds:0.00} s: {order.Describe()}");
            }

            // Counted as rescued: the sweeper takes the job back from the dead replica's hands or
            // requeues it when its lease lapses, whichever it finds first.
            await Eventually.Async(() => Task.FromResult(Rescued() >= rescuedBefore + held.Count), TimeSpan.FromSeconds(10),
                () => $"kata3.job.rescues{{cause=crash|lease_expiry}}: {Rescued()}, was {rescuedBefore} before the kill");

            // A live replica keeps the lease of its 5 s job (longer than the lease) alive: one attempt.
            foreach (var other in accepted.Where(a => !held.Contains(a.JobId)))
            {
                var order = await app.WaitForOrderAsync(other.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
                Assert.True(order.Status == "completed" && order.Job!.Attempts == 1 && order.Job.OrderedHistory.Count == 1,
                    order.Describe());
            }

            // Restore the app: the victim restarts and hands back what its in-hand list still held; that
            // late duplicate must change nothing.
            await app.StartInstanceAndWaitForHealthyAsync(ResourceNames.Worker, victim, Kata3App.DefaultTimeout);
            await app.WaitForWorkersAtWorkAsync();
            await Eventually.Async(async () =>
                (await app.ListAsync(QueueKeys.Processing(victim))).Count == 0
                && !(await app.ReadyJobIdsAsync()).Intersect(jobIds).Any(),
                TimeSpan.FromSeconds(30), () => $"{victim}'s in-hand list or the ready list still holds one of {string.Join(", ", jobIds)}");
            await DeliveryInvariant.AssertHoldsAsync(app, accepted.Select(a => a.OrderId));
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.Worker, output.WriteLine);
        }
    }

    private double Rescued() =>
        app.Telemetry.Total("kata3.job.rescues", ("cause", "crash")) + app.Telemetry.Total("kata3.job.rescues", ("cause", "lease_expiry"));
}
