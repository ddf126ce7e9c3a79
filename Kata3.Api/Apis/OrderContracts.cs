namespace Kata3.Api.Apis;

/// <summary>The body of POST /orders. Members are nullable so that a missing field can be named.</summary>
/// <remarks>
/// <c>runAt</c> is read as text so that a time without an offset can be refused rather than taken
/// as the server's local time; <c>delaySeconds</c> is the other way to say when (not both).
/// </remarks>
public sealed record CreateOrderRequest(string? Product, int? Quantity, decimal? Price, string? Priority = null,
    string? RunAt = null, long? DelaySeconds = null);

/// <summary>The body of a 202 answer: where the order stands and the trace that follows it.</summary>
public sealed record OrderAccepted(string Message, Guid OrderId, Guid JobId, string Status, string? TraceId);

public sealed record OrderDetails(
    Guid OrderId,
    string Product,
    int Quantity,
    decimal Price,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt,
    JobDetails? Job,
    DateTimeOffset? RunAt = null);

public sealed record JobDetails(
    Guid JobId,
    string Status,
    int Attempts,
    int? MaxAttempts,
    string? Error,
    string? WorkerId,
    string Priority,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<AttemptDetails> History);

/// <summary>One attempt at a job: when, where, and how it ended (null while it runs).</summary>
public sealed record AttemptDetails(
    int Attempt,
    string WorkerId,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    string? Outcome,
    string? Error);

/// <summary>A validated order, ready to be stored.</summary>
/// <param name="Schedule">When it may start, as the client asked (null: at once).</param>
public sealed record NewOrder(string Product, int Quantity, decimal Price, string Priority, OrderSchedule? Schedule = null);

/// <summary>
/// A start time, absolute (UTC) or relative to the order's acceptance: kept as asked, so a replay of
/// the same request under an idempotency key is the same request however late it comes. PostgreSQL's
/// clock turns a delay into a time when the order is stored.
/// </summary>
public sealed record OrderSchedule(DateTimeOffset? RunAt, long? DelaySeconds)
{
    /// <summary>The schedule as it enters the idempotency hash.</summary>
    public override string ToString() => RunAt is { } at
        ? $"runAt={at.UtcDateTime:O}"
        : $"delaySeconds={DelaySeconds}";
}
