using System.Globalization;
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

    /// <summary>The job's outcome is durable: forget it.</summary>
    public Task AcknowledgeAsync(string entry) =>
        redis.GetDatabase().ListRemoveAsync(_inHand, entry, count: 1);

    /// <summary>Hands a job back unprocessed, to the head of the queue so it is the next one taken.</summary>
    public async Task ReturnAsync(string entry)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListRemoveAsync(_inHand, entry, count: 1);
        _ = transaction.ListRightPushAsync(QueueKeys.Ready, entry);
        await transaction.ExecuteAsync();
    }

    /// <summary>Moves an unreadable entry aside, where it can be inspected, instead of retrying it forever.</summary>
    public async Task SetAsideAsync(string entry)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListRemoveAsync(_inHand, entry, count: 1);
        _ = transaction.ListLeftPushAsync(QueueKeys.Poison, entry);
        await transaction.ExecuteAsync();
    }

    /// <summary>
    /// Returns whatever this replica held when it last stopped (a restarted replica keeps its
    /// name), so those jobs run again instead of waiting in a list nobody reads.
    /// </summary>
    public async Task<int> RecoverInHandAsync()
    {
        var db = redis.GetDatabase();
        var recovered = 0;
        while (!(await db.ListMoveAsync(_inHand, QueueKeys.Ready, ListSide.Left, ListSide.Right)).IsNull)
        {
            recovered++;
        }
        return recovered;
    }
}
