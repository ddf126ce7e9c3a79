using System.Globalization;
using System.Text.Json;
using Kata3.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// The consumer's side of the Redis queue. A taken job is moved atomically (BLMOVE) from the ready
/// list to this replica's in-hand list, and leaves that list only once its outcome is recorded.
/// </summary>
internal sealed class JobQueue(
    IConnectionMultiplexer redis,
    BlockingRedisConnection blocking,
    WorkerIdentity identity,
    TimeProvider time,
    IOptions<WorkerOptions> options)
{
    private readonly RedisKey _inHand = QueueKeys.Processing(identity.Id);

    /// <summary>Waits up to FetchTimeout for a job; null when none came.</summary>
    public async Task<string?> FetchAsync()
    {
        var db = await blocking.GetDatabaseAsync();
        var timeoutSeconds = options.Value.FetchTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        // LPUSH by the API + take from the RIGHT = first in, first out.
        var result = await db.ExecuteAsync("BLMOVE", QueueKeys.Ready, _inHand, "RIGHT", "LEFT", timeoutSeconds);
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>The job's outcome is durable (or it needs no run): forget the entry.</summary>
    public async Task AcknowledgeAsync(string entry, Guid jobId)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListRemoveAsync(_inHand, entry, count: 1);
        _ = transaction.SetRemoveAsync(QueueKeys.Enqueued, jobId.ToString());
        await transaction.ExecuteAsync();
    }

    /// <summary>Hands a job back unprocessed, to the head of the queue so it is the next one taken.</summary>
    public async Task ReturnAsync(string entry)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListRemoveAsync(_inHand, entry, count: 1);
        _ = transaction.ListRightPushAsync(QueueKeys.Ready, entry);
        await transaction.ExecuteAsync();
    }

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
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListRemoveAsync(_inHand, entry, count: 1);
        _ = transaction.ListLeftPushAsync(QueueKeys.Poison, record);
        if (jobId is { } id)
        {
            _ = transaction.SetRemoveAsync(QueueKeys.Enqueued, id.ToString());
        }
        await transaction.ExecuteAsync();
    }

    /// <summary>
    /// Returns whatever this replica held when it last stopped (a restarted replica keeps its
    /// name), so those jobs run again at once instead of waiting for the sweeper.
    /// </summary>
    public Task<int> RecoverInHandAsync() => MoveBackAsync(identity.Id);

    /// <summary>Announces this replica as alive for one lease; its value names the process.</summary>
    public async Task HeartbeatAsync()
    {
        var db = redis.GetDatabase();
        var beat = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["pid"] = Environment.ProcessId,
            ["at"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
        await Task.WhenAll(
            db.StringSetAsync(QueueKeys.Heartbeat(identity.Id), beat, options.Value.LeaseDuration),
            db.SetAddAsync(QueueKeys.Workers, identity.Id));
    }

    /// <summary>A replica that stops cleanly says so, rather than leaving others to wait for its heartbeat to lapse.</summary>
    public async Task SignOffAsync()
    {
        var db = redis.GetDatabase();
        await Task.WhenAll(
            db.KeyDeleteAsync(QueueKeys.Heartbeat(identity.Id)),
            db.SetRemoveAsync(QueueKeys.Workers, identity.Id));
    }

    /// <summary>Tries to become this round's sweeper; the claim lapses by itself.</summary>
    public Task<bool> TryLeadSweepAsync(TimeSpan hold) =>
        redis.GetDatabase().StringSetAsync(QueueKeys.SweeperLock, identity.Id, hold, When.NotExists);

    /// <summary>Puts back on the queue what replicas whose heartbeat has lapsed still held.</summary>
    public async Task<int> RecoverFromDeadWorkersAsync()
    {
        var db = redis.GetDatabase();
        var recovered = 0;
        foreach (var worker in await db.SetMembersAsync(QueueKeys.Workers))
        {
            var workerId = worker.ToString();
            if (workerId == identity.Id || await db.KeyExistsAsync(QueueKeys.Heartbeat(workerId)))
            {
                continue;
            }
            recovered += await MoveBackAsync(workerId);
            await db.SetRemoveAsync(QueueKeys.Workers, workerId);
        }
        return recovered;
    }

    /// <summary>Of the given job ids, those Redis holds nowhere (neither ready nor in anyone's hands).</summary>
    public async Task<IReadOnlyList<Guid>> MissingAsync(IReadOnlyList<Guid> jobIds)
    {
        if (jobIds.Count == 0)
        {
            return [];
        }
        var present = await redis.GetDatabase().SetContainsAsync(QueueKeys.Enqueued,
            jobIds.Select(id => (RedisValue)id.ToString()).ToArray());
        return jobIds.Where((_, i) => !present[i]).ToList();
    }

    public Task PushAsync(IReadOnlyCollection<JobMessage> messages) => ReadyQueue.PushAsync(redis.GetDatabase(), messages);

    // Newest first onto the head of the queue, so the oldest ends up taken first.
    private async Task<int> MoveBackAsync(string workerId)
    {
        var db = redis.GetDatabase();
        var moved = 0;
        while (!(await db.ListMoveAsync(QueueKeys.Processing(workerId), QueueKeys.Ready, ListSide.Left, ListSide.Right)).IsNull)
        {
            moved++;
        }
        return moved;
    }
}
