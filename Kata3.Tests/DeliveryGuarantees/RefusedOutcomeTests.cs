using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// PostgreSQL refusing a job's outcome for good (here a trigger, standing in for a constraint or a
/// bug) ends that job instead of retrying the write forever with a slot pinned.
/// </summary>
[Collection(JobLimitsCollection.Name)]
public sealed class RefusedOutcomeTests(JobLimitsApp app, ITestOutputHelper output)
{
    private const string RefusedProduct = "refused-completion";
    private const string UnrecordableProduct = "unrecordable-outcome";
    private const string Refusal = "kata3 test refuses to complete this order";

    [Fact]
    public async Task JobWhoseCompletionPostgresRefusesEndsDeadWithTheErrorAndOtherOrdersComplete()
    {
        await app.WaitForWorkersAtWorkAsync();
        await ExecuteAsync($$"""
            CREATE OR REPLACE FUNCTION kata3_test_refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{{Refusal}}';
            END $$;
            CREATE OR REPLACE TRIGGER kata3_test_refuse_completion BEFORE UPDATE ON orders FOR EACH ROW
                WHEN (NEW.status = 'completed' AND NEW.product = '{{RefusedProduct}}')
                EXECUTE FUNCTION kata3_test_refuse_completion();
            """);
        try
        {
            var refused = await app.PostAcceptedOrderAsync(OrderRequests.Order(RefusedProduct));
            var others = new List<OrderAcceptedBody>();
            for (var i = 0; i < 3; i++)
            {
                others.Add(await app.PostAcceptedOrderAsync(OrderRequests.Order($"completes-{i}")));
            }

            var order = await app.WaitForOrderAsync(refused.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
            output.WriteLine(order.Describe());
            var job = order.Job!;
            Assert.True(order.Status == "failed" && job.Status == "dead", order.Describe());
            Assert.Equal(3, job.Attempts);
            Assert.Equal(["failed", "failed", "dead"], job.OrderedHistory.Select(a => a.Outcome));
            Assert.All(job.OrderedHistory, a => Assert.True(a.Error?.Contains(Refusal) == true, order.Describe()));
            Assert.Contains(Refusal, job.Error);

            // One replica with one slot: these complete only if the refused job let go of it.
            foreach (var other in others)
            {
                var completed = await app.WaitForOrderAsync(other.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
                Assert.True(completed.Status == "completed" && completed.Job!.Attempts == 1, completed.Describe());
            }
            await DeliveryInvariant.AssertHoldsAsync(app, [refused.OrderId, .. others.Select(o => o.OrderId)]);
        }
        finally
        {
            await ExecuteAsync("""
                DROP TRIGGER IF EXISTS kata3_test_refuse_completion ON orders;
                DROP FUNCTION IF EXISTS kata3_test_refuse_completion();
                """);
        }
    }

    [Fact]
    public async Task AttemptWhoseOutcomeCannotBeWrittenAtAllIsGivenUpAndLeftToItsLease()
    {
        await app.WaitForWorkersAtWorkAsync();
        // Refuses every outcome of this order's attempts but the sweeper's "abandoned".
        await ExecuteAsync($$"""
            CREATE OR REPLACE FUNCTION kata3_test_refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM jobs j JOIN orders o ON o.id = j.order_id
                           WHERE j.id = NEW.job_id AND o.product = '{{UnrecordableProduct}}') THEN
                    RAISE EXCEPTION '{{Refusal}}';
                END IF;
                RETURN NEW;
            END $$;
            CREATE OR REPLACE TRIGGER kata3_test_refuse_outcome BEFORE UPDATE ON job_attempts FOR EACH ROW
                WHEN (NEW.outcome IS NOT NULL AND NEW.outcome <> 'abandoned')
                EXECUTE FUNCTION kata3_test_refuse_outcome();
            """);
        var accepted = new List<OrderAcceptedBody>();
        try
        {
            var unrecordable = await app.PostAcceptedOrderAsync(OrderRequests.Order(UnrecordableProduct));
            accepted.Add(unrecordable);
            var others = new List<OrderAcceptedBody>();
            for (var i = 0; i < 2; i++)
            {
                others.Add(await app.PostAcceptedOrderAsync(OrderRequests.Order($"after-unrecordable-{i}")));
            }
            accepted.AddRange(others);

            // One replica with one slot: these complete only if the unrecordable attempt let go of it.
            foreach (var other in others)
            {
                var completed = await app.WaitForOrderAsync(other.OrderId, TimeSpan.FromSeconds(30), "completed", "failed");
                Assert.True(completed.Status == "completed" && completed.Job!.Attempts == 1, completed.Describe());
            }

            // Its lease was no longer renewed: it lapsed, the sweeper requeued the job and it ran again.
            OrderBody? seen = null;
            await Eventually.Async(async () =>
            {
                seen = await app.GetOrderAsync(unrecordable.OrderId);
                return seen.Job!.OrderedHistory is [{ Outcome: "abandoned" }, _, ..];
            }, TimeSpan.FromSeconds(30), () => $"the first attempt was not left to its lease: {seen?.Describe()}");
            var order = seen!;
            output.WriteLine(order.Describe());
            Assert.True(order.Status == "pending", order.Describe());

            var worker = order.Job!.OrderedHistory[0].WorkerId!;
            var logs = await app.GetLogsAsync(worker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains(logs, l => l.Contains($"Gave up recording job {unrecordable.JobId} attempt 1"));
        }
        finally
        {
            await ExecuteAsync("""
                DROP TRIGGER IF EXISTS kata3_test_refuse_outcome ON job_attempts;
                DROP FUNCTION IF EXISTS kata3_test_refuse_outcome();
                """);
        }
        // Once PostgreSQL takes outcomes again the job ends like any other.
        await DeliveryInvariant.AssertHoldsAsync(app, accepted.Select(a => a.OrderId));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = app.Database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
