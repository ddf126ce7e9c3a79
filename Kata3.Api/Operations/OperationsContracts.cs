namespace Kata3.Api.Operations;

/// <summary>
/// The queue at one moment, read from PostgreSQL (job states) and Redis (lists, replicas): what the
/// gauges report, GET /jobs/stats answers, the jobs UI's overview and the dashboard's jobs resource show.
/// </summary>
/// <param name="Ready">Entries waiting in each priority's ready list (Redis), by priority.</param>
/// <param name="Processing">Jobs processing (PostgreSQL).</param>
/// <param name="Retrying">Queued jobs waiting for a retry's back-off to pass.</param>
/// <param name="Scheduled">Jobs whose start time is still ahead.</param>
/// <param name="Dead">Dead jobs (dead letters).</param>
/// <param name="Poison">Entries set aside in the poison list (Redis).</param>
/// <param name="OldestReadySeconds">Age of the oldest queued job that is due (0 when none).</param>
/// <param name="Paused">The paused priorities (all three when everything is paused).</param>
/// <param name="Replicas">Worker replicas that announced themselves, alive or not, with what each holds.</param>
public sealed record QueueStats(
    DateTimeOffset At,
    IReadOnlyDictionary<string, long> Ready,
    long Processing,
    long Retrying,
    long Scheduled,
    long Dead,
    long Poison,
    double OldestReadySeconds,
    IReadOnlyList<string> Paused,
    IReadOnlyList<ReplicaState> Replicas);

/// <param name="Alive">Its heartbeat has not lapsed.</param>
/// <param name="InHand">Entries in its in-hand list (Redis).</param>
/// <param name="Jobs">The jobs PostgreSQL has processing under it.</param>
public sealed record ReplicaState(string WorkerId, bool Alive, long InHand, IReadOnlyList<Guid> Jobs);

/// <summary>Jobs finished in one minute (completed; dead or cancelled as failed).</summary>
public sealed record ThroughputMinute(DateTimeOffset Minute, long Completed, long Failed);

public sealed record QueuePaused(IReadOnlyList<string> Paused);
public sealed record PoisonPurged(long Purged);
public sealed record DemoOrdersEnqueued(int Count, IReadOnlyList<Guid> OrderIds);

/// <summary>The answer to a cancel: <c>cancelled</c> (it had not started) or <c>cancelling</c> (it runs and was asked to stop).</summary>
public sealed record OrderCancelled(Guid OrderId, Guid JobId, string Status);

/// <summary>What a cancel found.</summary>
public enum CancelResult
{
    /// <summary>No such order.</summary>
    NotFound,
    /// <summary>Queued, scheduled or waiting for a retry: cancelled, its job will never run.</summary>
    Cancelled,
    /// <summary>Running: its worker was asked to stop it; the attempt ends cancelled unless it finishes first.</summary>
    Cancelling,
    /// <summary>Already completed, dead or cancelled: nothing to cancel.</summary>
    Finished,
}

/// <param name="JobStatus">The job's status after the cancel (or as found, when finished).</param>
public sealed record CancelOutcome(CancelResult Result, Guid OrderId, Guid JobId, string? JobStatus);
