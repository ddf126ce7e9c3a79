namespace Kata3.Contracts;

/// <summary>
/// The headers of POST /orders besides the body, shared by the API and its clients (the tests).
/// The failure-simulation header is <see cref="FailureSimulationOptions.HeaderName"/>.
/// </summary>
public static class OrderHeaders
{
    /// <summary>A client's key for one order: the same POST sent again with it answers with the first order.</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>"true" on a 202 that answers a repeated <see cref="IdempotencyKey"/> with the order it first made.</summary>
    public const string IdempotentReplayed = "Idempotent-Replayed";
}
