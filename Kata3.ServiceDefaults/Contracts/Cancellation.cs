namespace Kata3.Contracts;

/// <summary>
/// How a cancelled job reads, whoever ended it: the API (not started), the replica running it
/// (stopped), or the sweeper (its replica died after the request).
/// </summary>
public static class Cancellation
{
    /// <summary>jobs.error of a cancelled job.</summary>
    public const string JobError = "Cancelled by an operator.";
}
