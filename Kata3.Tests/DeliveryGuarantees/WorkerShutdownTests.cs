using System.Diagnostics;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>A stopping replica whose job outlasts its shutdown timeout hands the job straight back.</summary>
[Collection(WorkerFailureCollection.Name)]
public sealed class WorkerShutdownTests(WorkerFailureApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task JobsInHandWhenEveryReplicaIsStoppedAreHandedBackAtOnceAndCompletedAfterTheReplicasStartAgain()
    {
        var replicas = await app.WaitForWorkersAtWorkAsync();
        // Two more 5 s jobs than replicas: every replica holds one (longer than its 1 s shutdown timeout), two wait.
        var accepted = new List<OrderAcceptedBody>();
        for (var i = 0; i < app.Workers + 2; i++)
        {
            accepted.Add(await app.PostAcceptedOrderAsync(OrderRequests.Order($"interrupted-{i}")));
        }
        var jobIds = accepted.Select(a => a.JobId).ToArray();

        try
        {
            var inHand = (await app.WaitForRunningOnReplicasAsync(jobIds, app.Workers, TimeSpan.FromSeconds(30)))
                .Select(r => r.JobId).ToHashSet();
            var clock = Stopwatch.StartNew();
            await app.StopAndWaitForExitAsync(ResourceNames.Worker, Kata3App.DefaultTimeout);
            output.WriteLine($"all replicas exited {clock.Elapsed.TotalSeconds:0.00} s after the stop");

            // No replica runs, so no sweeper can have requeued anything on lease expiry: what is back in the
            // queue was handed back by the stopping replicas themselves; the jobs that waited were not touched.
            var ready = await app.ReadyJobIdsAsync();
            foreach (var a in accepted)
            {
                Assert.Contains(a.JobId, ready);
                var order = await app.GetOrderAsync(a.OrderId);
                Assert.True(order.Status == "pending" && order.Job!.Status == "queued", order.Describe());
                if (inHand.Contains(a.JobId))
                {
                    var attempt = Assert.Single(order.Job.OrderedHistory);
                    Assert.True(attempt.Outcome == "interrupted" && attempt.FinishedAt is not null, order.Describe());
                }
                else
                {
                    Assert.True(order.Job.OrderedHistory.Count == 0, order.Describe());
                }
                output.WriteLine(order.Describe());
            }
            foreach (var id in replicas)
            {
                Assert.Empty(await app.ListAsync(QueueKeys.Processing(id)));
            }

            await app.StartAndWaitForHealthyAsync(ResourceNames.Worker, Kata3App.DefaultTimeout);
            await app.WaitForWorkersAtWorkAsync();

            foreach (var a in accepted)
            {
                var order = await app.WaitForOrderAsync(a.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
                var history = order.Job!.OrderedHistory;
                Assert.True(order.Status == "completed", order.Describe());
                string[] expected = inHand.Contains(a.JobId) ? ["interrupted", "completed"] : ["completed"];
                Assert.True(expected.SequenceEqual(history.Select(h => h.Outcome)), order.Describe());
                Assert.True(history.Count == 1 || history[1].StartedAt >= history[0].FinishedAt, order.Describe());
            }
            await DeliveryInvariant.AssertHoldsAsync(app, accepted.Select(a => a.OrderId));
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.Worker, output.WriteLine);
        }
    }
}
