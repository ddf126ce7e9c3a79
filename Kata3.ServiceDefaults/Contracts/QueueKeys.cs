namespace Kata3.Contracts;

/// <summary>The Redis keys shared by the producer (API) and the consumers (workers).</summary>
public static class QueueKeys
{
    /// <summary>The normal-priority ready queue: the API pushes on the left, workers take from the right (FIFO).</summary>
    public const string Ready = "kata3:jobs:ready";

    /// <summary>
    /// One push per job, trimmed to a bounded length: an idle worker blocks on it (BLPOP) instead
    /// of polling the three ready lists, and wakes as soon as anything is pushed.
    /// </summary>
    public const string Signal = "kata3:jobs:signal";

    /// <summary>Counts fetches, to give lower priorities their guaranteed share.</summary>
    public const string FetchCounter = "kata3:jobs:fetches";

    /// <summary>Jobs started in the current one-second window, for Worker:MaxJobsPerSecond.</summary>
    public const string RateWindow = "kata3:jobs:started-this-second";

    /// <summary>
    /// Ids of the jobs that are somewhere in Redis (ready or in a worker's hands). A hint, not the
    /// truth: the sweeper pushes at once a due job that PostgreSQL has as queued but this set lacks
    /// (a failed push, an API that died between commit and push, a Redis that restarted empty), and
    /// its audit finds the ones the set wrongly claims are held.
    /// </summary>
    public const string Enqueued = "kata3:jobs:enqueued";

    /// <summary>
    /// Entries that are not a job a worker can run, set aside as JSON with their reason, newest
    /// first; capped at the worker's Retention:PoisonEntries (GET /jobs/poison shows them).
    /// </summary>
    public const string Poison = "kata3:jobs:poison";

    /// <summary>
    /// The priorities workers take nothing from (a set; all three when everything is paused). A copy
    /// of PostgreSQL's queue_pauses, which survives every restart: written with it by the API and
    /// restored from it by the sweeper; the fetch script reads it.
    /// </summary>
    public const string Paused = "kata3:queue:paused";

    /// <summary>
    /// A member <see cref="Paused"/> always holds besides the priorities, so that the set exists
    /// even when nothing is paused: a missing set means Redis lost it, and workers take nothing
    /// until the sweeper has copied the record back.
    /// </summary>
    public const string PausedKnownMarker = "-";

    /// <summary>Pub/sub channel: the id of a running job an operator cancelled, for the replica holding it.</summary>
    public const string CancelChannel = "kata3:jobs:cancel";

    /// <summary>Held (and renewed) by the one API instance that reports the queue's gauges, so each is reported once.</summary>
    public const string StatsReporter = "kata3:stats:reporter";

    /// <summary>Ids of the worker replicas that have announced themselves (a hint: recovery scans the in-hand lists).</summary>
    public const string Workers = "kata3:workers";

    /// <summary>Held by whichever replica is sweeping, so sweeps do not overlap.</summary>
    public const string SweeperLock = "kata3:sweeper:lock";

    /// <summary>Held for an audit interval by the sweeper that audited, so one audit runs per interval across replicas.</summary>
    public const string AuditLock = "kata3:sweeper:audit";

    /// <summary>The ready queue of a priority (normal keeps the plain name).</summary>
    public static string ReadyFor(string priority) => priority == JobPriority.Normal ? Ready : $"{Ready}:{priority}";

    /// <summary>
    /// A worker's in-hand list: a job is moved here atomically as it is taken, and removed only
    /// after its outcome is recorded in PostgreSQL, so a taken job is never only in memory.
    /// </summary>
    public static string Processing(string workerId) => ProcessingPrefix + workerId;

    /// <summary>The prefix of every in-hand list; what follows it is the owner's replica id.</summary>
    public const string ProcessingPrefix = "kata3:jobs:processing:";

    /// <summary>A worker's heartbeat (expires unless renewed); its value is JSON with the process id.</summary>
    public static string Heartbeat(string workerId) => $"kata3:workers:{workerId}";
}
