using System.Net.Http.Json;
using System.Reflection;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Tests.Infrastructure;

/// <summary>
/// The real AppHost, started once per test class or collection: Redis and PostgreSQL (throwaway data), the API
/// and the workers. Subclasses choose the replica count and job duration, and may pass further
/// AppHost arguments (e.g. "--Kata3:Worker:LeaseDuration=00:00:03").
/// </summary>
public abstract class Kata3App(int workers, TimeSpan jobDuration, params string[] extraArgs) : IAsyncLifetime
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    // Test classes and collections run side by side (AssemblyInfo.cs), but at most this many apps
    // run at once (KATA3_TEST_APPS, default 3): on two cores, three apps keep the CPU busy while
    // each waits on its jobs, leases and timers, with a fifth of it still idle.
    private static readonly SemaphoreSlim Slots = new(AppsAtOnce());
    private bool _holdsSlot;

    private DistributedApplication? _app;
    private NpgsqlDataSource? _database;
    private ConnectionMultiplexer? _redis;
    private OtlpTraceReceiver? _telemetry;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");
    public NpgsqlDataSource Database => _database ?? throw new InvalidOperationException("The app has not started.");
    /// <summary>The test's own Redis connection (not the app's), for looking at and tampering with the queue.</summary>
    public IDatabase Redis => _redis?.GetDatabase() ?? throw new InvalidOperationException("The app has not started.");
    /// <summary>The API as an operator: every request carries the operator key.</summary>
    public HttpClient Api { get; private set; } = null!;
    /// <summary>The API as anyone else: no credential.</summary>
    public HttpClient Anonymous { get; private set; } = null!;
    /// <summary>The AppHost's operator key (its secret parameter).</summary>
    public string OperatorKey { get; private set; } = null!;
    /// <summary>How many worker replicas the app was started with.</summary>
    public int Workers => workers;

    /// <summary>
    /// Whether the API and the workers export telemetry (OTLP/HTTP) to <see cref="Telemetry"/>;
    /// off by default: no dashboard runs in tests, and exporting into nothing stretches every
    /// replica's shutdown past the orchestrator's patience.
    /// </summary>
    protected virtual bool ExportsTelemetry => false;

    /// <summary>
    /// Whether the services start from their build output with <c>dotnet exec</c> (see
    /// <see cref="LaunchBuiltOutput"/>) rather than through Aspire's own <c>dotnet run</c>.
    /// </summary>
    protected virtual bool LaunchesBuiltOutput => true;

    /// <summary>What the app's processes exported: spans, and the latest points of each instrument per process.</summary>
    public OtlpTraceReceiver Telemetry => _telemetry ?? throw new InvalidOperationException("This app exports no telemetry.");

    public async Task InitializeAsync()
    {
        await Slots.WaitAsync();
        _holdsSlot = true;
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        using var cts = new CancellationTokenSource(DefaultTimeout * 2);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Kata3_AppHost>(
            [
                "--Kata3:EphemeralData=true",
                $"--Kata3:Workers={workers}",
                $"--Kata3:Worker:JobDuration={jobDuration:c}",
                // The default per-client limit would throttle the tests' bursts; apps that test limits set their own.
                "--Kata3:Api:RateLimiting:PermitsPerSecond=0",
                .. extraArgs,
            ],
            cts.Token);
        _telemetry = ExportsTelemetry ? new OtlpTraceReceiver() : null;
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            if (LaunchesBuiltOutput)
            {
                LaunchBuiltOutput(project);
            }
            // No PGO for processes that live seconds: about a sixth less CPU for an app's start.
            var resource = builder.CreateResourceBuilder(project)
                .WithEnvironment("DOTNET_TieredPGO", "0")
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", _telemetry?.Endpoint ?? "");
            if (_telemetry is not null)
            {
                resource.WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                    .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "1000");
            }
        }
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Warning)
            .AddFilter("System.Net.Http.HttpClient", LogLevel.Warning));

        _app = await builder.BuildAsync(cts.Token).WaitAsync(DefaultTimeout, cts.Token);
        CheckHealthOften(_app);
        await _app.StartAsync(cts.Token).WaitAsync(DefaultTimeout, cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, cts.Token).WaitAsync(DefaultTimeout, cts.Token);

        var keyParameter = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ParameterResource>().Single(p => p.Name == OperatorAccess.KeyParameter);
        OperatorKey = (await keyParameter.GetValueAsync(cts.Token))!;
        Api = _app.CreateHttpClient(ResourceNames.Api);
        Api.DefaultRequestHeaders.Authorization = new(OperatorAccess.AuthorizationScheme, OperatorKey);
        Anonymous = _app.CreateHttpClient(ResourceNames.Api);
        var connectionString = await _app.GetConnectionStringAsync(ResourceNames.Database, cts.Token).AsTask().WaitAsync(DefaultTimeout, cts.Token);
        _database = NpgsqlDataSource.Create(connectionString!);
        var redisConfig = ConfigurationOptions.Parse((await _app.GetConnectionStringAsync(ResourceNames.Redis, cts.Token)
            .AsTask().WaitAsync(DefaultTimeout, cts.Token))!);
        // Reconnects by itself after Redis is restarted, like the app's own clients.
        redisConfig.AbortOnConnectFail = false;
        redisConfig.ClientName = "kata3-tests";
        _redis = await ConnectionMultiplexer.ConnectAsync(redisConfig).WaitAsync(DefaultTimeout, cts.Token);

        await WaitForHealthyWorkersAsync(workers, cts.Token);
    }

    /// <summary>
    /// Aspire checks a resource that is not healthy yet 1, 2, 3, 4, 5 s apart, so every start (Redis,
    /// PostgreSQL, the API, the replicas, one after the other) waits out part of that stepping.
    /// Aspire's own tests shorten the step through an internal property; so do these. Were it gone,
    /// the apps would only start more slowly.
    /// </summary>
    private static void CheckHealthOften(DistributedApplication app)
    {
        var type = typeof(DistributedApplication).Assembly.GetType("Aspire.Hosting.Health.ResourceHealthCheckService");
        var step = type?.GetProperty("NonHealthyHealthCheckStepInterval", BindingFlags.Instance | BindingFlags.NonPublic);
        if (type is not null && step is not null && app.Services.GetService(type) is { } service)
        {
            step.SetValue(service, TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>
    /// Aspire starts a project with <c>dotnet run --no-build</c>, which evaluates the project with
    /// MSBuild before it runs anything: about a second of CPU for every process of every app here.
    /// The tests start the same build output with <c>dotnet exec</c> instead (Aspire's launch path for a
    /// project that carries an <see cref="ExecutableAnnotation"/>); the environment, endpoints and
    /// replicas are the AppHost's as before. One app keeps <c>dotnet run</c> (AppHostShutdownTests: the
    /// signal an AppHost's stop sends goes through it).
    /// </summary>
    private static void LaunchBuiltOutput(ProjectResource project)
    {
        var projectPath = project.GetProjectMetadata().ProjectPath;
        var directory = Path.GetDirectoryName(projectPath)!;
        // The services build into bin/<configuration>/<framework>, as the tests themselves do.
        var configuration = typeof(Kata3App).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var dll = Path.Combine(directory, "bin", configuration, framework, Path.GetFileNameWithoutExtension(projectPath) + ".dll");
        if (!File.Exists(dll))
        {
            return; // a layout these lines do not know: Aspire's own dotnet run still works, only slower
        }
        project.Annotations.Add(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = directory });
        // Added last, so it runs after the AppHost's own arguments and puts these before them.
        project.Annotations.Add(new CommandLineArgsCallbackAnnotation(args =>
        {
            args.Insert(0, "exec");
            args.Insert(1, dll);
        }));
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        Anonymous?.Dispose();
        if (_redis is not null)
        {
            await _redis.CloseAsync();
            await _redis.DisposeAsync();
            _redis = null;
        }
        // Close our connections first, or PostgreSQL waits for them and is killed uncleanly.
        if (_database is not null)
        {
            await _database.DisposeAsync();
            _database = null;
        }
        NpgsqlConnection.ClearAllPools();
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(DefaultTimeout);
            await _app.DisposeAsync();
            _app = null;
        }
        _telemetry?.Dispose();
        _telemetry = null;
        if (_holdsSlot)
        {
            _holdsSlot = false;
            Slots.Release();
        }
    }

    private static int AppsAtOnce() =>
        int.TryParse(Environment.GetEnvironmentVariable("KATA3_TEST_APPS"), out var apps) && apps > 0 ? apps : 3;

    /// <summary>The replica resource ids (e.g. "worker-ab12cd34") that are currently healthy.</summary>
    public async Task<IReadOnlyList<string>> WaitForHealthyWorkersAsync(int count, CancellationToken cancellationToken)
    {
        var healthy = new HashSet<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DefaultTimeout);
        await foreach (var e in App.ResourceNotifications.WatchAsync(timeout.Token))
        {
            if (e.Resource.Name != ResourceNames.Worker)
            {
                continue;
            }
            if (e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                healthy.Add(e.ResourceId);
            }
            else
            {
                healthy.Remove(e.ResourceId);
            }
            if (healthy.Count >= count)
            {
                return [.. healthy];
            }
        }
        throw new TimeoutException($"Fewer than {count} healthy worker replicas.");
    }

    /// <summary>What a replica wrote to its console, through the AppHost's resource logs.</summary>
    public async Task<IReadOnlyList<string>> GetLogsAsync(string resourceId, CancellationToken cancellationToken)
    {
        var loggerService = App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        await foreach (var batch in loggerService.GetAllAsync(resourceId).WithCancellation(cancellationToken))
        {
            lines.AddRange(batch.Select(l => l.Content));
        }
        return lines;
    }

    /// <summary>Posts an order (without <c>priority</c> unless given: the API's default) and expects 202.</summary>
    public async Task<OrderAcceptedBody> PostOrderAsync(string product, int quantity = 1, decimal price = 9.99m, string? priority = null)
    {
        object order = priority is null ? new { product, quantity, price } : new { product, quantity, price, priority };
        var response = await Api.PostAsJsonAsync("/orders", order);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!;
    }

    public async Task<OrderBody> GetOrderAsync(Guid orderId) =>
        (await Api.GetFromJsonAsync<OrderBody>($"/orders/{orderId}"))!;

    /// <summary>Polls the API until the order reaches one of the given states.</summary>
    public async Task<OrderBody> WaitForOrderAsync(Guid orderId, TimeSpan timeout, params string[] statuses)
    {
        OrderBody? last = null;
        await Eventually.Async(async () =>
        {
            last = await GetOrderAsync(orderId);
            return statuses.Contains(last.Status);
        }, timeout, () => $"order {orderId} did not reach [{string.Join(", ", statuses)}]; last seen: {last}");
        return last!;
    }

    // Table names are fixed strings from the tests themselves.
    public Task<long> CountRowsAsync(string table) => CountAsync($"SELECT count(*) FROM {table}");

    /// <summary>The one whole number a query of the test's own answers (a count, an age in seconds).</summary>
    public async Task<long> CountAsync(string sql)
    {
        await using var command = Database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed record OrderAcceptedBody(string Message, Guid OrderId, Guid JobId, string Status, string? TraceId);

public sealed record OrderBody(
    Guid OrderId, string Product, int Quantity, decimal Price, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? CompletedAt, JobBody? Job);

public sealed record JobBody(
    Guid JobId, string Status, int Attempts, string? Error, string? WorkerId,
    DateTimeOffset EnqueuedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    int? MaxAttempts = null, DateTimeOffset? NextAttemptAt = null, IReadOnlyList<AttemptBody>? History = null)
{
    /// <summary>The attempts in the order they were made.</summary>
    public IReadOnlyList<AttemptBody> OrderedHistory => [.. (History ?? []).OrderBy(a => a.Attempt)];
}

/// <summary>One attempt of a job: outcome null while it runs, else completed, failed, dead, interrupted or abandoned.</summary>
public sealed record AttemptBody(
    int Attempt, string? WorkerId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Error);
