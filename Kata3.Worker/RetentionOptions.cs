using System.ComponentModel.DataAnnotations;

namespace Kata3.Worker;

/// <summary>
/// How long what the app keeps only for looking back is kept, so nothing grows forever. Orders
/// and jobs are business records and are never pruned. Bound from the "Worker:Retention" section.
/// </summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Worker:Retention";

    /// <summary>How often one replica prunes (under a PostgreSQL advisory lock).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Rows per pruning statement: small enough to never hold locks or the log for long.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// A completed job's attempt rows are deleted this long after it completed; the job row keeps
    /// its attempt count, worker and times.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan AttemptHistory { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// A dead job's attempt rows (every error, what operators inspect before a retry) are kept
    /// longer: this long after it died. A dead job that is retried keeps its history until it
    /// finishes again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan DeadJobHistory { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// An order's Idempotency-Key (and request hash) is cleared this long after the order was
    /// accepted; the key can then be used again for a new order.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan IdempotencyKeys { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most entries kept in the poison list; the oldest go first.</summary>
    [Range(1, 1_000_000)]
    public int PoisonEntries { get; set; } = 1000;
}
