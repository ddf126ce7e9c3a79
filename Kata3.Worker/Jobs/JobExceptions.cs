namespace Kata3.Worker.Jobs;

/// <summary>A failure that no retry can mend: the job goes straight to the dead letters.</summary>
internal sealed class PermanentJobException(string message) : Exception(message);

/// <summary>The attempt ran past Worker:JobTimeout and its work was cancelled.</summary>
internal sealed class JobTimedOutException(TimeSpan timeout) : Exception($"Timed out after {timeout:c}; the work was cancelled.");

/// <summary>PostgreSQL would not record the attempt's outcome; the attempt is failed with the reason instead.</summary>
internal sealed class OutcomeRefusedException(string message, Exception inner) : Exception(message, inner);
