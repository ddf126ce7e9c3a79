using System.Diagnostics.Metrics;
using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Api.Operations;

/// <summary>
/// The queue's gauges (depths, ages, replicas, pauses) on the Kata3 meter. They describe the whole
/// queue, so only one API instance reports them: the holder of <see cref="QueueKeys.StatsReporter"/>,
/// a lock it renews each snapshot and another instance takes over once it lapses. Observations
/// read the last snapshot (one stats read a second), never the stores.
/// </summary>
internal sealed class QueueGauges : BackgroundService
{
    public static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LockLifetime = SnapshotInterval * 5;

    // KEYS: the lock. ARGV: this instance, lifetime in ms. Renews the lock if held, takes it if free.
    private const string HoldScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
        """;

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly QueueStatsReader _reader;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<QueueGauges> _logger;
    private volatile QueueStats? _snapshot;

    public QueueGauges(QueueStatsReader reader, IConnectionMultiplexer redis, IMeterFactory meterFactory, ILogger<QueueGauges> logger)
    {
        _reader = reader;
        _redis = redis;
        _logger = logger;
        var meter = meterFactory.Create(Kata3Telemetry.MeterName);
        meter.CreateObservableGauge("kata3.queue.ready", () => Observe(s =>
            s.Ready.Select(p => new Measurement<long>(p.Value, Tag("priority", p.Key)))),
            unit: "{job}", description: "Entries waiting in each priority's ready list.");
        meter.CreateObservableGauge("kata3.queue.processing", () => Observe(s => One(s.Processing)),
            unit: "{job}", description: "Jobs a worker is processing.");
        meter.CreateObservableGauge("kata3.queue.waiting", () => Observe(s => new[]
            {
                new Measurement<long>(s.Retrying, Tag("reason", "retry")),
                new Measurement<long>(s.Scheduled, Tag("reason", "scheduled")),
            }),
            unit: "{job}", description: "Jobs waiting for a retry's back-off or for their scheduled time.");
        meter.CreateObservableGauge("kata3.queue.dead", () => Observe(s => One(s.Dead)),
            unit: "{job}", description: "Dead jobs (dead letters).");
        meter.CreateObservableGauge("kata3.queue.poison", () => Observe(s => One(s.Poison)),
            unit: "{entry}", description: "Entries set aside in the poison list.");
        meter.CreateObservableGauge("kata3.queue.oldest_ready_age", () => Observe(s => new[] { new Measurement<double>(s.OldestReadySeconds) }),
            unit: "s", description: "Age of the oldest queued job that is due.");
        meter.CreateObservableGauge("kata3.queue.replicas", () => Observe(s => One(s.Replicas.Count(r => r.Alive))),
            unit: "{replica}", description: "Worker replicas whose heartbeat is live.");
        meter.CreateObservableGauge("kata3.queue.paused", () => Observe(s =>
            JobPriority.All.Select(p => new Measurement<long>(s.Paused.Contains(p) ? 1 : 0, Tag("priority", p)))),
            unit: "{priority}", description: "1 for each paused priority.");
    }

    /// <summary>The last snapshot, when this instance is the reporter.</summary>
    public QueueStats? Snapshot => _snapshot;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SnapshotInterval);
        try
        {
            do
            {
                await TakeSnapshotAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task TakeSnapshotAsync(CancellationToken cancellationToken)
    {
        try
        {
            var held = (long)await _redis.GetDatabase().ScriptEvaluateAsync(HoldScript, [QueueKeys.StatsReporter],
                [_instance, (long)LockLifetime.TotalMilliseconds]) == 1;
            _snapshot = held ? await _reader.ReadAsync(cancellationToken) : null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Report nothing rather than figures that have stopped moving; the next tick tries again.
            _snapshot = null;
            _logger.LogDebug(ex, "Queue gauges skipped a snapshot");
        }
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<QueueStats, IEnumerable<Measurement<T>>> measure) where T : struct =>
        _snapshot is { } snapshot ? measure(snapshot) : [];

    private static Measurement<long>[] One(long value) => [new(value)];

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
