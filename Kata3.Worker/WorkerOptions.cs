using System.ComponentModel.DataAnnotations;

namespace Kata3.Worker;

/// <summary>How a worker replica consumes jobs. Bound from the "Worker" section.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Simulated work per job (the original kata's 2 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan JobDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long one blocking pop waits on the server before it returns empty. It bounds how long
    /// a stop waits for an idle worker, and stays well under the client timeout (see JobQueue).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:00:30")]
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest pause after a failing loop iteration (the pause doubles up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:05:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);
}
