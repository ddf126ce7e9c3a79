using System.Diagnostics;
using System.Text;
using Kata3.Api.Apis;
using Kata3.Api.Data;
using Kata3.Api.Intake;
using Kata3.Contracts;
using IServer = Microsoft.AspNetCore.Hosting.Server.IServer;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Api;

/// <summary>
/// Makes the first order as fast as the next. Before the server listens (hosted services start
/// first) it opens the connections, runs the insert and the read once writing nothing, reaches
/// Redis and compiles the order's JSON; once the server listens it sends itself the requests that
/// compile the HTTP pipeline (refused and not-found answers, which write nothing). Until both are
/// done its health check keeps /health unhealthy.
/// </summary>
internal sealed class ApiWarmup(
    OrderIntake intake,
    OrderStore orders,
    IConnectionMultiplexer redis,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<JsonOptions> json,
    ILogger<ApiWarmup> logger) : IHostedService, IHealthCheck
{
    private volatile bool _warm;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(intake.WarmUpAsync(cancellationToken), orders.GetAsync(Guid.Empty, cancellationToken), WarmRedisAsync());

        var request = new DefaultHttpContext().Request;
        request.ContentType = "application/json";
        request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"product":"warm-up","quantity":1,"price":1}"""));
        var (order, _) = await OrderRequestReader.ReadAsync(request, cancellationToken);
        _ = OrderRequestReader.Hash(order!, simulateFailures: 0);
        _ = System.Text.Json.JsonSerializer.Serialize(
            new OrderAccepted("", Guid.Empty, Guid.Empty, OrderStatus.Pending, null), json.Value.SerializerOptions);

        lifetime.ApplicationStarted.Register(() => _ = WarmHttpAsync(clock));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_warm ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Warming up."));

    private async Task WarmHttpAsync(Stopwatch clock)
    {
        try
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://"))
                ?? throw new InvalidOperationException("The server listens on no http address.");
            using var client = new HttpClient { BaseAddress = new Uri(LocalAddress(address)), Timeout = TimeSpan.FromSeconds(10) };
            using var invalid = await client.PostAsync("/orders", new StringContent("{}", Encoding.UTF8, "application/json"));
            using var missing = await client.GetAsync($"/orders/{Guid.Empty}");
            logger.LogInformation("Warmed up the order path in {Elapsed:0} ms", clock.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex)
        {
            // Only slower: never keep the API unhealthy because its own requests failed.
            logger.LogWarning("Could not warm up the HTTP pipeline: {Error}", ex.Message);
        }
        _warm = true;
    }

    // Kestrel reports wildcard hosts ("http://[::]:5080", "http://+:5080") for addresses bound to all interfaces.
    private static string LocalAddress(string address)
    {
        var uri = new UriBuilder(address.Replace("://+", "://localhost").Replace("://*", "://localhost"));
        if (uri.Host is "[::]" or "::" or "0.0.0.0")
        {
            uri.Host = "localhost";
        }
        return uri.Uri.ToString();
    }

    // The push's path (a MULTI of a serialized message) with commands that change nothing. Redis
    // may be down at start; the API serves anyway (a push that fails is left to the sweeper).
    private async Task WarmRedisAsync()
    {
        try
        {
            var message = new JobMessage(JobMessage.CurrentVersion, Guid.Empty, Guid.Empty, DateTimeOffset.UtcNow, null, null);
            var transaction = redis.GetDatabase().CreateTransaction();
            _ = transaction.ListLengthAsync(QueueKeys.Ready);
            _ = transaction.SetContainsAsync(QueueKeys.Enqueued, message.Serialize());
            await transaction.ExecuteAsync();
        }
        catch (Exception ex) when (StoreFaults.IsOutage(ex))
        {
            logger.LogWarning("Redis did not answer the warm-up: {Error}", ex.Message);
        }
    }
}
