namespace Kata3.Contracts;

/// <summary>
/// Deterministic failures for demos and tests: a POST with <see cref="HeaderName"/> makes its
/// job's first N attempts fail transiently, or every attempt fail permanently. Honoured only
/// where the "FailureSimulation" section has Enabled = true, in the API (which records the
/// request on the job) and in the worker (which acts on it); off unless configured.
/// </summary>
public sealed class FailureSimulationOptions
{
    public const string SectionName = "FailureSimulation";
    public const string HeaderName = "Kata3-Simulate-Failure";
    public const string PermanentValue = "permanent";

    /// <summary>Stored in jobs.simulate_failures for "fail every attempt, permanently".</summary>
    public const int Permanent = -1;

    public bool Enabled { get; set; }
}
