using System.Globalization;
using System.Text.Json;
using Kata3.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// Which replicas are alive and what their in-hand lists hold: this replica's heartbeat and
/// sign-off, and the returns that keep an entry from staying in hands that will never settle it
/// (a dead replica's, this replica's from before a restart, or its own orphans).
/// </summary>
internal sealed class ReplicaRegistry(
    IConnectionMultiplexer redis,
    JobQueue queue,
    WorkerIdentity identity,
    TimeProvider time,
    IOptions<WorkerOptions> options)
{
    private HashSet<string> _unheldBefore = [];

    /// <summary>Announces this replica as alive for one lease; its value names the process.</summary>
    public async Task HeartbeatAsync()
    {
        var db = redis.GetDatabase();
        var beat = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["pid"] = Environment.ProcessId,
            ["at"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
        await db.ScriptEvaluateAsync(RedisScripts.Heartbeat, [QueueKeys.Heartbeat(identity.Id), QueueKeys.Workers],
            [beat, (long)options.Value.LeaseDuration.TotalMilliseconds, identity.Id]);
    }

    /// <summary>
    /// A replica that stops cleanly returns what its in-hand list still holds (jobs it could not
    /// hand back, e.g. with PostgreSQL down) and then says it is gone, rather than leaving others to
    /// wait for its heartbeat to lapse. Returns how many entries it returned.
    /// </summary>
    public async Task<int> SignOffAsync()
    {
        // Before the heartbeat goes: if this fails, the list is still found once the beat lapses.
        var returned = await queue.ReturnAllAsync(identity.Id);
        var db = redis.GetDatabase();
        await Task.WhenAll(
            db.KeyDeleteAsync(QueueKeys.Heartbeat(identity.Id)),
            db.SetRemoveAsync(QueueKeys.Workers, identity.Id));
        return returned;
    }

    /// <summary>
    /// Returns whatever this replica held when it last stopped (a restarted replica keeps its
    /// name), so those jobs run again at once instead of waiting for the sweeper.
    /// </summary>
    public Task<int> RecoverInHandAsync() => queue.ReturnAllAsync(identity.Id);

    /// <summary>
    /// Puts back on the queue the entries in this replica's in-hand list that none of its jobs
    /// holds, when they were already there unheld at the previous call (a lease third earlier):
    /// a take whose reply never arrived (the connection dropped after the script ran) or a hand-back
    /// that failed. Nothing else would ever move them while this replica lives; a delivery that was
    /// merely slow is harmless to repeat, since a claim is conditional.
    /// </summary>
    /// <param name="held">The jobs this replica has claimed and is working on.</param>
    public async Task<int> ReturnOrphansAsync(IReadOnlyCollection<Guid> held)
    {
        var heldIds = held.ToHashSet();
        var unheld = (await redis.GetDatabase().ListRangeAsync(QueueKeys.Processing(identity.Id)))
            .Select(entry => (string)entry!)
            .Where(entry => JobMessage.TryParse(entry) is not { } message || !heldIds.Contains(message.JobId))
            .ToHashSet();
        var orphans = unheld.Where(_unheldBefore.Contains).ToList();
        _unheldBefore = unheld;
        foreach (var entry in orphans)
        {
            await queue.ReturnAsync(entry);
        }
        return orphans.Count;
    }

    /// <summary>
    /// Puts back on the queue what replicas without a live heartbeat still hold. The in-hand lists
    /// themselves are scanned, not the registry: a replica that signed off or was never registered
    /// with entries in hand is found too.
    /// </summary>
    public async Task<int> RecoverFromDeadWorkersAsync()
    {
        var recovered = 0;
        await foreach (var (owner, live) in InHandListsAsync())
        {
            if (!live)
            {
                recovered += await queue.ReturnAllAsync(owner);
            }
        }
        var db = redis.GetDatabase();
        foreach (var worker in await db.SetMembersAsync(QueueKeys.Workers))
        {
            if (!await IsLiveAsync(db, worker.ToString()))
            {
                await db.SetRemoveAsync(QueueKeys.Workers, worker);
            }
        }
        return recovered;
    }

    /// <summary>
    /// Every replica that has an in-hand list, found with SCAN (one may come twice), and whether it
    /// is live: this replica, or one whose heartbeat has not lapsed.
    /// </summary>
    public async IAsyncEnumerable<(string WorkerId, bool Live)> InHandListsAsync()
    {
        var db = redis.GetDatabase();
        var cursor = "0";
        do
        {
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", QueueKeys.ProcessingPrefix + "*", "COUNT", 1000))!;
            cursor = (string)reply[0]!;
            foreach (var key in (RedisKey[])reply[1]!)
            {
                var owner = key.ToString()[QueueKeys.ProcessingPrefix.Length..];
                yield return (owner, await IsLiveAsync(db, owner));
            }
        }
        while (cursor != "0");
    }

    private async Task<bool> IsLiveAsync(IDatabase db, string workerId) =>
        workerId == identity.Id || await db.KeyExistsAsync(QueueKeys.Heartbeat(workerId));
}
