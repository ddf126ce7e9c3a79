using System.ComponentModel.DataAnnotations;

namespace Kata3.Worker;

/// <summary>How a worker replica consumes jobs. Bound from the "Worker" section.</summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string SectionName = "Worker";

    /// <summary>Simulated work per job (the original kata's 2 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan JobDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest one attempt may run. Past it the work is cancelled and the attempt recorded as
    /// timed out, then retried like a failure (dead after the last attempt), so a hung job cannot
    /// hold a slot for good. Generous by default: it is a bound for stuck work, not a schedule.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "1.00:00:00")]
    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Jobs in flight at once in this replica.</summary>
    [Range(1, 1000)]
    public int Concurrency { get; set; } = 1;

    /// <summary>Most jobs started per second across all replicas (enforced in Redis); 0 = no limit.</summary>
    [Range(0, 1_000_000)]
    public int MaxJobsPerSecond { get; set; }

    /// <summary>
    /// How long one blocking pop waits on the server before it returns empty and the loop looks
    /// again. A stop does not wait for it (the wait is interrupted); it stays well under the client
    /// timeout (see BlockingRedisConnection).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:00:30")]
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest pause after a failing loop iteration (the pause doubles up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:05:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a claimed job (and this replica's heartbeat) stays ours without renewal. Renewed
    /// every third of it while the replica lives, so a long job is never taken from a live
    /// worker; once a replica dies its jobs run again within about this plus one sweep.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the sweeper recovers abandoned jobs and delivers due ones that Redis lacks.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often each replica's scheduler queues the scheduled jobs whose start time has come. A job
    /// starts at most about this late (plus the fetch); a look when nothing is due costs one index probe.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.05", "00:01:00")]
    public TimeSpan SchedulePollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often (across all replicas) the sweeper checks every queued, due job in PostgreSQL
    /// against the entries Redis really holds, and pushes what no list holds. A lost delivery is
    /// back within about this plus the 2 s grace for fresh jobs.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.5", "00:10:00")]
    public TimeSpan AuditInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a stopping replica lets the job in hand finish before it hands it straight back to
    /// the queue. Keep it under the orchestrator's patience (Aspire kills after about 10 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(8);

    [Required]
    public RetryOptions Retry { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // DataAnnotations does not descend into nested objects: Retry's ranges are checked here.
        var retry = new List<ValidationResult>();
        Validator.TryValidateObject(Retry, new ValidationContext(Retry), retry, validateAllProperties: true);
        foreach (var result in retry)
        {
            yield return new ValidationResult($"{nameof(Retry)}: {result.ErrorMessage}",
                [.. result.MemberNames.Select(member => $"{nameof(Retry)}:{member}")]);
        }


        // Otherwise every simulated job would time out.
        if (JobTimeout <= JobDuration)
        {
            yield return new ValidationResult(
                $"JobTimeout ({JobTimeout:c}) must be longer than JobDuration ({JobDuration:c}).",
                [nameof(JobTimeout), nameof(JobDuration)]);
        }
    }
}

/// <summary>Retries of failed attempts: exponential back-off with jitter, up to a maximum of attempts.</summary>
public sealed class RetryOptions
{
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Delay before the attempt after <paramref name="attempt"/>: base × 2^(attempt−1), capped, ±20 % jitter.</summary>
    public TimeSpan DelayAfter(int attempt)
    {
        var exponential = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return TimeSpan.FromMilliseconds(capped * jitter);
    }
}
