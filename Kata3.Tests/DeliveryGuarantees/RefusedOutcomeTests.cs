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
            var refused = await app.PostAcceptedOrderAsync(JobsApi.Order(RefusedProduct));
            var others = new List<OrderAcceptedBody>();
            for (var i = 0; i < 3; i++)
            {
                others.Add(await app.PostAcceptedOrderAsync(JobsApi.Order($"completes-{i}")));
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

    private async Task ExecuteAsync(string sql)
    {
        await using var command = app.Database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
