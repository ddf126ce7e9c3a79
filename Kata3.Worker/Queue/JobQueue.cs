using System.Globalization;
using System.Text.Json;
using Kata3.Batching;
using Kata3.Contracts;
using Kata3.Queue;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// Taking jobs from the Redis queues and settling them. A taken job is moved atomically (LMOVE,
/// in a script that also applies priorities and the global rate limit) from a ready list to this
/// replica's in-hand list, and leaves that list only once its outcome is recorded: acknowledged,
/// handed back or set aside. An idle replica blocks on the signal list (BLPOP) until something is pushed.
/// </summary>
internal sealed class JobQueue(
    IConnectionMultiplexer redis,
    BlockingRedisConnection blocking,
    WorkerIdentity identity,
    TimeProvider time,
    IOptions<WorkerOptions> options,
    IOptions<RetentionOptions> retention) : IAsyncDisposable
{
    private readonly RedisKey _inHand = QueueKeys.Processing(identity.Id);
    // BLPOP's server-side timeout, formatted once rather than at every idle wake-up.
    private readonly string _fetchTimeoutSeconds =
        options.Value.FetchTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
    private readonly GroupCommit<(string Entry, Guid JobId), bool> _acknowledgements = new("acknowledge jobs",
        (jobs, _) => AcknowledgeBatchAsync(redis.GetDatabase(), QueueKeys.Processing(identity.Id), jobs), writers: 1);

    // Takes up to ARGV[1] jobs, high before normal before low, except that every 5th fetch looks
    // at normal first and every 10th at low first, so a flood of high jobs cannot starve the rest.
    // With ARGV[2] > 0 it starts at most that many jobs per second across all replicas. A priority
    // in the paused set (KEYS[7]; ARGV[3..5] name the lists' priorities) is not looked at: with
    // everything paused it takes nothing, and the replica blocks on the signal list as when idle.
    // A missing set (Redis lost it) is read as "not known yet": nothing is taken until the
    // sweeper's copy, which wakes the replicas.
    // allow-oom: taking frees Redis, so it must work when Redis refuses new writes (see RedisScripts).
    private const string FetchScript = """
        #!lua flags=allow-oom
        if redis.call('EXISTS', KEYS[7]) == 0 then
          return {'jobs'}
        end
        local open = {}
        local any = false
        for i = 1, 3 do
          open[i] = redis.call('SISMEMBER', KEYS[7], ARGV[i + 2]) == 0
          any = any or open[i]
        end
        if not any then
          return {'jobs'}
        end
        local wanted = tonumber(ARGV[1])
        local limit = tonumber(ARGV[2])
        if limit > 0 then
          local used = tonumber(redis.call('GET', KEYS[6]) or '0')
          if used >= limit then
            local ttl = redis.call('PTTL', KEYS[6])
            if ttl < 1 then ttl = 1 end
            return {'throttled', tostring(ttl)}
          end
          wanted = math.min(wanted, limit - used)
        end
        local taken = {'jobs'}
        while #taken <= wanted do
          local n = redis.call('INCR', KEYS[5])
          local order = {1, 2, 3}
          if n % 10 == 0 then order = {3, 2, 1} elseif n % 5 == 0 then order = {2, 3, 1} end
          local entry = false
          for _, i in ipairs(order) do
            if open[i] then
              entry = redis.call('LMOVE', KEYS[i], KEYS[4], 'RIGHT', 'LEFT')
              if entry then break end
            end
          end
          if not entry then break end
          taken[#taken + 1] = entry
        end
        if limit > 0 and #taken > 1 then
          if redis.call('INCRBY', KEYS[6], #taken - 1) == #taken - 1 then
            redis.call('PEXPIRE', KEYS[6], 1000)
          end
        end
        return taken
        """;

    private readonly RedisKey[] _fetchKeys =
    [
        QueueKeys.ReadyFor(JobPriority.High), QueueKeys.ReadyFor(JobPriority.Normal), QueueKeys.ReadyFor(JobPriority.Low),
        QueueKeys.Processing(identity.Id), QueueKeys.FetchCounter, QueueKeys.RateWindow, QueueKeys.Paused,
    ];

    /// <summary>
    /// Moves up to <paramref name="max"/> jobs to this replica's in-hand list without waiting.
    /// When the global rate limit is reached, returns none and how long until it lifts.
    /// </summary>
    public Task<(IReadOnlyList<string> Entries, TimeSpan? Throttled)> TakeAsync(int max) =>
        TakeAsync(redis.GetDatabase(), max);

    /// <summary>
    /// Blocks until something is pushed or FetchTimeout passes, then takes as <see cref="TakeAsync(int)"/>
    /// does. The take is pipelined behind the BLPOP on the blocking connection, so Redis runs it the
    /// moment the wait ends: a woken replica has its jobs without another round trip. The finite
    /// server timeout, well under the client's, means no orphaned pop is ever left behind.
    /// </summary>
    public async Task<(IReadOnlyList<string> Entries, TimeSpan? Throttled)> WaitAndTakeAsync(int max)
    {
        var db = await blocking.GetDatabaseAsync();
        var wait = db.ExecuteAsync("BLPOP", QueueKeys.Signal, _fetchTimeoutSeconds);
        var take = TakeAsync(db, max);
        await Task.WhenAll(wait, take);
        return await take;
    }

    private async Task<(IReadOnlyList<string> Entries, TimeSpan? Throttled)> TakeAsync(IDatabase db, int max)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(FetchScript, _fetchKeys,
            [max, options.Value.MaxJobsPerSecond, JobPriority.High, JobPriority.Normal, JobPriority.Low]))!;
        if ((string?)result[0] == "throttled")
        {
            return ([], TimeSpan.FromMilliseconds((long)result[1]));
        }
        return (result.Skip(1).Select(r => (string)r!).ToList(), null);
    }

    /// <summary>
    /// The job's outcome is durable (or it needs no run): forget the entry. Concurrent
    /// acknowledgements share one MULTI (group commit), so a busy replica pays one round trip
    /// for a whole batch.
    /// </summary>
    public Task AcknowledgeAsync(string entry, Guid jobId) =>
        _acknowledgements.SubmitAsync((entry, jobId), CancellationToken.None);

    private static async Task<IReadOnlyList<bool>> AcknowledgeBatchAsync(IDatabase db, RedisKey inHand,
        IReadOnlyList<(string Entry, Guid JobId)> jobs)
    {
        RedisValue[] args = [jobs.Count, .. jobs.Select(j => (RedisValue)j.Entry), .. jobs.Select(j => (RedisValue)j.JobId.ToString())];
        await db.ScriptEvaluateAsync(RedisScripts.Acknowledge, [inHand, QueueKeys.Enqueued], args);
        return [.. jobs.Select(_ => true)];
    }

    public ValueTask DisposeAsync() => _acknowledgements.DisposeAsync();

    /// <summary>Hands a job back unprocessed, to the head of its queue so it is the next one taken.</summary>
    public Task ReturnAsync(string entry) => MoveBackAsync(identity.Id, entry);

    /// <summary>Moves an entry no worker can run aside, with why, instead of retrying it forever.</summary>
    public async Task SetAsideAsync(string entry, string reason, Guid? jobId)
    {
        var record = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["reason"] = reason,
            ["entry"] = entry,
            ["workerId"] = identity.Id,
            ["at"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
        await redis.GetDatabase().ScriptEvaluateAsync(RedisScripts.SetAside, [_inHand, QueueKeys.Poison, QueueKeys.Enqueued],
            [entry, record, retention.Value.PoisonEntries, jobId?.ToString() ?? ""]);
    }

    /// <summary>
    /// Hands back everything in a replica's in-hand list (this one's, or a dead one's), newest first
    /// onto the head of its queue, so the oldest ends up taken first. Returns how many entries.
    /// </summary>
    public async Task<int> ReturnAllAsync(string workerId)
    {
        var entries = await redis.GetDatabase().ListRangeAsync(QueueKeys.Processing(workerId));
        foreach (var entry in entries)
        {
            await MoveBackAsync(workerId, entry!);
        }
        return entries.Length;
    }

    private async Task MoveBackAsync(string workerId, string entry)
    {
        // An entry that does not parse goes back to the normal list; the next taker sets it aside.
        var priority = JobMessage.TryParse(entry)?.Priority;
        var ready = QueueKeys.ReadyFor(JobPriority.IsValid(priority) ? priority! : JobPriority.Normal);
        await redis.GetDatabase().ScriptEvaluateAsync(RedisScripts.MoveBack, [QueueKeys.Processing(workerId), ready, QueueKeys.Signal],
            [entry, ReadyQueue.MaxSignals]);
    }
}
