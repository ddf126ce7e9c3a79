using System.Diagnostics;
using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Queue;

/// <summary>Putting jobs on the ready queues, the one way both the API and the sweeper do it.</summary>
public static class ReadyQueue
{
    /// <summary>How many wake-up signals may wait; more would only wake idle workers for nothing.</summary>
    public const int MaxSignals = 1000;

    /// <summary>
    /// Pushes the jobs (oldest first, so they are taken first) onto their priority's list,
    /// records them as enqueued and wakes idle workers, in one MULTI so the lists and the set
    /// cannot disagree.
    /// </summary>
    public static async Task PushAsync(IDatabase db, IReadOnlyCollection<JobMessage> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        using var activity = Kata3Telemetry.ActivitySource.StartActivity("push jobs", ActivityKind.Producer);
        activity?.SetTag("db.system.name", "redis");
        activity?.SetTag(Kata3Telemetry.BatchSizeTag, messages.Count);
        var transaction = db.CreateTransaction();
        foreach (var byPriority in messages.GroupBy(m => m.Priority ?? JobPriority.Normal))
        {
            _ = transaction.ListLeftPushAsync(QueueKeys.ReadyFor(byPriority.Key),
                byPriority.Select(m => (RedisValue)m.Serialize()).ToArray());
        }
        _ = transaction.SetAddAsync(QueueKeys.Enqueued, messages.Select(m => (RedisValue)m.JobId.ToString()).ToArray());
        _ = transaction.ListLeftPushAsync(QueueKeys.Signal, Enumerable.Repeat((RedisValue)1, Math.Min(messages.Count, MaxSignals)).ToArray());
        _ = transaction.ListTrimAsync(QueueKeys.Signal, 0, MaxSignals - 1);
        await transaction.ExecuteAsync();
    }
}
