using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// A replica that stops while PostgreSQL is down cannot hand its job back in PostgreSQL; the job
/// must still come back, whatever the replica registry says once the replica has signed off.
/// </summary>
[Collection(WorkerFailureCollection.Name)]
public sealed class StrandedInHandTests(WorkerFailureApp app, ITestOutputHelper output)
{
    [Fact]
    public async Task AJobInTheHandsOfAReplicaStoppedWhilePostgresIsDownIsCompletedOncePostgresIsBack()
    {
        await app.WaitForWorkersAtWorkAsync();
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("stranded-in-hand"));
        try
        {
            var holder = (await app.WaitForRunningOnReplicasAsync([accepted.JobId], 1, TimeSpan.FromSeconds(30)))[0].WorkerId;
            output.WriteLine($"{holder} holds job {accepted.JobId}");

            // Hold the job's row until PostgreSQL dies, so the holder cannot finish it first: the
            // completion waits on the lock, and PostgreSQL's shutdown waits on our session until
            // the orchestrator kills it.
            app.Database.Clear();
            var stopping = Task.CompletedTask;
            await using (var connection = await app.Database.OpenConnectionAsync())
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM jobs WHERE id = @id FOR UPDATE", connection, transaction))
                {
                    lockRow.Parameters.AddWithValue("id", accepted.JobId);
                    await lockRow.ExecuteScalarAsync();
                }
                stopping = app.StopAndWaitForExitAsync(ResourceNames.DatabaseServer, TimeSpan.FromSeconds(60));
                await stopping;
            }
            app.Database.Clear();
            output.WriteLine("PostgreSQL is down");

            // Stop the holder alone: it cannot record the job as handed back, and signs off.
            await app.StopInstanceAndWaitForExitAsync(ResourceNames.Worker, holder, Kata3App.DefaultTimeout);
            Assert.False(await app.Redis.SetContainsAsync(QueueKeys.Workers, holder), $"{holder} did not sign off");
            output.WriteLine($"{holder} exited; its in-hand list: [{string.Join(", ", await app.ListAsync(QueueKeys.Processing(holder)))}]");

            await app.StartAndWaitForHealthyAsync(ResourceNames.DatabaseServer, Kata3App.DefaultTimeout);
            await app.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Database).WaitAsync(Kata3App.DefaultTimeout);
            app.Database.Clear();

            // The holder stays stopped: the job must come back without its restart. Read from
            // PostgreSQL, as the API may answer 503 for a while after PostgreSQL is back.
            await DeliveryInvariant.AssertHoldsAsync(app, [accepted.OrderId], TimeSpan.FromSeconds(45));
            Assert.False(app.IsRunning(holder), $"{holder} was restarted: the test proves nothing");
            OrderBody? order = null;
            await Eventually.Async(async () =>
            {
                try
                {
                    order = await app.GetOrderAsync(accepted.OrderId);
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), () => "the API never answered GET /orders/{id} after PostgreSQL came back");
            var completed = order!;
            output.WriteLine(completed.Describe());
            Assert.True(completed.Status == "completed", completed.Describe());
            Assert.NotEqual(holder, completed.Job!.WorkerId);
        }
        finally
        {
            await app.RestoreAsync(ResourceNames.DatabaseServer, output.WriteLine);
            await app.RestoreAsync(ResourceNames.Worker, output.WriteLine);
        }
    }

    [Fact]
    public async Task EntriesInTheHandsOfAReplicaThatIsNeitherRegisteredNorBeatingAreReturnedAndRun()
    {
        await app.WaitForWorkersAtWorkAsync();

        // What a replica that signed off (or never registered) with a job in hand leaves behind:
        // an in-hand list whose owner has no heartbeat and is not in the registry.
        var ghost = $"worker-gone-{Guid.NewGuid():N}";
        var (orderId, jobId) = await app.InsertQueuedJobAsync("ghost-in-hand", TimeSpan.Zero);
        var entry = new JobMessage(JobMessage.CurrentVersion, jobId, orderId, DateTimeOffset.UtcNow, null, null).Serialize();
        await app.Redis.SetAddAsync(QueueKeys.Enqueued, jobId.ToString());
        await app.Redis.ListLeftPushAsync(QueueKeys.Processing(ghost), entry);
        Assert.False(await app.Redis.SetContainsAsync(QueueKeys.Workers, ghost));

        var order = await app.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(30), "completed", "failed");
        Assert.True(order.Status == "completed", order.Describe());
        Assert.Empty(await app.ListAsync(QueueKeys.Processing(ghost)));
        await DeliveryInvariant.AssertHoldsAsync(app, [orderId]);
    }
}
