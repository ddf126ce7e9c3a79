namespace Kata3.Contracts;

/// <summary>Values of orders.status.</summary>
public static class OrderStatus
{
    public const string Pending = "pending";
    /// <summary>Accepted with a start time still ahead (its job is scheduled).</summary>
    public const string Scheduled = "scheduled";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>Values of jobs.status. A job waiting for a retry is queued with a later run_at.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    /// <summary>Must not start before its run_at; the worker's scheduler queues it when that comes.</summary>
    public const string Scheduled = "scheduled";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Dead = "dead";
    /// <summary>Cancelled by an operator: before it started, or stopped while it ran.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Every status, in the order a job usually passes through them.</summary>
    public static readonly IReadOnlyList<string> All = [Scheduled, Queued, Processing, Completed, Dead, Cancelled];
}

/// <summary>Values of job_attempts.outcome (null while the attempt runs).</summary>
public static class AttemptOutcome
{
    public const string Completed = "completed";
    /// <summary>Failed with a transient error; the job will be retried.</summary>
    public const string Failed = "failed";
    /// <summary>Failed on the last attempt or with a permanent error; the job is dead.</summary>
    public const string Dead = "dead";
    /// <summary>Handed back unfinished by a worker that was stopping.</summary>
    public const string Interrupted = "interrupted";
    /// <summary>Its worker vanished (lease expired); the job was queued again.</summary>
    public const string Abandoned = "abandoned";
    /// <summary>Ran past Worker:JobTimeout and was cancelled; retried like a failure, dead after the last attempt.</summary>
    public const string TimedOut = "timed-out";
    /// <summary>Stopped at an operator's request (its cancellation token); the job is cancelled.</summary>
    public const string Cancelled = "cancelled";
}
