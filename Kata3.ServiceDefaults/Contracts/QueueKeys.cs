namespace Kata3.Contracts;

/// <summary>The Redis keys shared by the producer (API) and the consumers (workers).</summary>
public static class QueueKeys
{
    /// <summary>The ready queue: the API pushes on the left, workers take from the right (FIFO).</summary>
    public const string Ready = "kata3:jobs:ready";

    /// <summary>Entries that are not a job message a worker understands, set aside with their raw text.</summary>
    public const string Poison = "kata3:jobs:poison";

    /// <summary>
    /// A worker's in-hand list: a job is moved here atomically as it is taken, and removed only
    /// after its outcome is recorded in PostgreSQL, so a taken job is never only in memory.
    /// </summary>
    public static string Processing(string workerId) => $"kata3:jobs:processing:{workerId}";
}
