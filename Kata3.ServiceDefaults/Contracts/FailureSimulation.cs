namespace Kata3.Contracts;

/// <summary>
/// Deterministic failures for demos and tests: a POST with <see cref="HeaderName"/> makes its
/// job's first N attempts fail transiently, every attempt fail permanently, or every attempt hang
/// until it is cancelled (to exercise Worker:JobTimeout). Honoured only
/// where the "FailureSimulation" section has Enabled = true, in the API (which records the
/// request on the job) and in the worker (which acts on it); off unless configured.
/// </summary>
public sealed class FailureSimulationOptions
{
    public const string SectionName = "FailureSimulation";
    public const string HeaderName = "Kata3-Simulate-Failure";
    public const string PermanentValue = "permanent";
    public const string HangValue = "hang";

    /// <summary>Stored in jobs.simulate_failures for "fail every attempt, permanently".</summary>
    public const int Permanent = -1;

    /// <summary>Stored in jobs.simulate_failures for "every attempt waits forever, until cancelled".</summary>
    public const int Hang = -2;

    public bool Enabled { get; set; }
}
