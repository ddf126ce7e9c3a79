using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Kata3.Tests.DeliveryGuarantees;

/// <summary>
/// Redis has a memory limit and refuses writes at it instead of evicting. Then orders are still
/// accepted (PostgreSQL has them), the workers keep draining what is queued, and once there is
/// room again every accepted order completes.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class RedisMemoryLimitTests(LimitsApp app, ITestOutputHelper output) : IAsyncLifetime
{
    private ConnectionMultiplexer? _admin;
    private IServer Server => _admin!.GetServers().Single();

    public async Task InitializeAsync()
    {
        var options = ConfigurationOptions.Parse((await app.App.GetConnectionStringAsync(ResourceNames.Redis))!);
        options.AllowAdmin = true;
        options.ClientName = "kata3-tests-admin";
        _admin = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(Kata3App.DefaultTimeout);
    }

    public async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
    }

    [Fact]
    public void RedisRunsWithTheDefaultMemoryLimitAndNoEviction()
    {
        Assert.Equal((512L * 1024 * 1024).ToString(), Config("maxmemory"));
        Assert.Equal("noeviction", Config("maxmemory-policy"));
    }

    [Fact]
    public async Task AtTheMemoryLimitOrdersAreAcceptedQueuedJobsStillRunAndEverythingCompletesOnceThereIsRoom()
    {
        await app.WaitForWorkersAtWorkAsync();
        var worker = (await app.WaitForHealthyWorkersAsync(1, CancellationToken.None))[0];
        var limit = Config("maxmemory");
        var db = _admin!.GetDatabase();
        const string filler = "kata3:test:filler";

        // A backlog the one replica needs several seconds for.
        var queued = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            queued.Add((await app.PostAcceptedOrderAsync(OrderRequests.Order($"before-limit-{i}"))).OrderId);
        }

        var refused = new List<Guid>();
        try
        {
            // Full: a filler list grows in small pieces (a big value's query buffer would distort
            // used_memory) until Redis refuses it; then the limit goes 2 MB lower, so jobs that
            // finish and free a little cannot bring Redis back under it.
            var used = long.Parse(Info("used_memory"));
            var full = used + 8 * 1024 * 1024;
            await Server.ConfigSetAsync("maxmemory", full.ToString());
            var piece = new string('x', 64 * 1024);
            for (var pieces = 0; ; pieces++)
            {
                Assert.True(pieces < 10_000, "Redis never refused the filler");
                try
                {
                    await db.ListRightPushAsync(filler, piece);
                }
                catch (RedisServerException e) when (e.Message.StartsWith("OOM"))
                {
                    break;
                }
            }
            await Server.ConfigSetAsync("maxmemory", (full - 2 * 1024 * 1024).ToString());
            await AssertWritesRefusedAsync(db);

            // Still accepted: PostgreSQL has them; Redis refuses only their push.
            for (var i = 0; i < 3; i++)
            {
                var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order($"at-limit-{i}"));
                refused.Add(accepted.OrderId);
                Assert.False(await app.Redis.SetContainsAsync(QueueKeys.Enqueued, accepted.JobId.ToString()),
                    $"job {accepted.JobId} was pushed at the limit");
            }

            // The replica keeps taking, acknowledging and beating while Redis is full.
            var beat = await app.Redis.StringGetAsync(QueueKeys.Heartbeat(worker));
            foreach (var id in queued)
            {
                var order = await app.WaitForOrderAsync(id, TimeSpan.FromSeconds(60), "completed", "failed");
                Assert.True(order.Status == "completed", order.ToString());
            }
            await Eventually.Async(async () => await app.Redis.StringGetAsync(QueueKeys.Heartbeat(worker)) != beat,
                TimeSpan.FromSeconds(10), () => "the replica's heartbeat was not renewed at the memory limit");
            await AssertWritesRefusedAsync(db);
            foreach (var id in refused)
            {
                Assert.Equal("pending", (await app.GetOrderAsync(id)).Status);
            }
            output.WriteLine($"at the limit: {queued.Count} queued orders completed, {refused.Count} new ones accepted and waiting");
        }
        finally
        {
            await db.KeyDeleteAsync(filler);
            await Server.ConfigSetAsync("maxmemory", limit);
        }

        // Room again: the sweeper pushes what Redis refused, and everything completes.
        foreach (var id in refused)
        {
            var order = await app.WaitForOrderAsync(id, TimeSpan.FromSeconds(60), "completed", "failed");
            Assert.True(order.Status == "completed", order.ToString());
        }
        await DeliveryInvariant.AssertHoldsAsync(app, [.. queued, .. refused]);
    }

    private static async Task AssertWritesRefusedAsync(IDatabase db)
    {
        var refusal = await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync("kata3:test:probe", "1"));
        Assert.StartsWith("OOM", refusal.Message);
    }

    private string Config(string name) => Server.ConfigGet(name).Single().Value;

    private string Info(string field) =>
        Server.Info("memory").SelectMany(g => g).Single(p => p.Key == field).Value;
}

/// <summary>
/// Aspire's Redis container gets the same limit; checked on the app model (no container runtime
/// needed). The container runs /bin/sh -c with its arguments joined into one command line: in run
/// mode the orchestrator joins them, when publishing AddRedis has joined them already.
/// </summary>
public sealed class RedisContainerMemoryLimitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheRedisContainerCommandLineCarriesTheMemoryLimitAndNoEviction(bool publish)
    {
        using var cts = new CancellationTokenSource(Kata3App.DefaultTimeout);
        string[] args = ["--Kata3:Infrastructure=containers", "--Kata3:RedisMaxMemory=64mb"];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Kata3_AppHost>(
            publish ? [.. args, "--operation", "publish", "--publisher", "manifest", "--output-path", Path.GetTempPath()] : args, cts.Token);
        Assert.Equal(publish, builder.ExecutionContext.IsPublishMode);
        var redis = builder.Resources.OfType<ContainerResource>().Single(r => r.Name == ResourceNames.Redis);

        var values = new List<object>();
        var context = new CommandLineArgsCallbackContext(values, redis, cts.Token) { ExecutionContext = builder.ExecutionContext };
        foreach (var annotation in redis.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(context);
        }

        var commandLine = publish ? Assert.IsType<string>(values[^1]) : string.Join(' ', values);
        Assert.Equal("/bin/sh", redis.Entrypoint);
        Assert.StartsWith("redis-server ", commandLine);
        Assert.EndsWith("--maxmemory 64mb --maxmemory-policy noeviction", commandLine);
    }
}
