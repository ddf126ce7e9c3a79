using StackExchange.Redis;

namespace Kata3.Contracts;

/// <summary>Putting jobs on the ready queue, the one way both the API and the sweeper do it.</summary>
public static class ReadyQueue
{
    /// <summary>
    /// Pushes the jobs (oldest first, so they are taken first) and records them as enqueued, in
    /// one MULTI so the list and the set cannot disagree.
    /// </summary>
    public static async Task PushAsync(IDatabase db, IReadOnlyCollection<JobMessage> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var transaction = db.CreateTransaction();
        _ = transaction.ListLeftPushAsync(QueueKeys.Ready, messages.Select(m => (RedisValue)m.Serialize()).ToArray());
        _ = transaction.SetAddAsync(QueueKeys.Enqueued, messages.Select(m => (RedisValue)m.JobId.ToString()).ToArray());
        await transaction.ExecuteAsync();
    }
}
