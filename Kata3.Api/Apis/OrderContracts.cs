namespace Kata3.Api.Apis;

/// <summary>The body of POST /orders. Members are nullable so that a missing field can be named.</summary>
public sealed record CreateOrderRequest(string? Product, int? Quantity, decimal? Price, string? Priority = null);

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
    JobDetails? Job);

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
public sealed record NewOrder(string Product, int Quantity, decimal Price, string Priority);
