namespace Kata3.Tests.Infrastructure;

/// <summary>The attempts in progress right now, from job_attempts (an attempt runs until it has an outcome).</summary>
public static class AttemptQueries
{
    public static async Task<IReadOnlyList<RunningAttempt>> RunningAttemptsAsync(this Kata3App app, Guid[] jobIds)
    {
        await using var command = app.Database.CreateCommand("""
            SELECT job_id, attempt, worker_id FROM job_attempts
            WHERE job_id = ANY(@ids) AND outcome IS NULL
            ORDER BY started_at
            """);
        command.Parameters.AddWithValue("ids", jobIds);
        var running = new List<RunningAttempt>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            running.Add(new RunningAttempt(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));
        }
        return running;
    }

    /// <summary>Waits until the given jobs are running on at least this many distinct replicas.</summary>
    public static async Task<IReadOnlyList<RunningAttempt>> WaitForRunningOnReplicasAsync(
        this Kata3App app, Guid[] jobIds, int replicas, TimeSpan timeout)
    {
        IReadOnlyList<RunningAttempt> running = [];
        await Eventually.Async(async () =>
        {
            running = await app.RunningAttemptsAsync(jobIds);
            return running.Select(r => r.WorkerId).Distinct().Count() >= replicas;
        }, timeout, () => $"the jobs were not seen running on {replicas} replica(s); running: {string.Join(", ", running)}");
        return running;
    }
}

public sealed record RunningAttempt(Guid JobId, int Attempt, string WorkerId);
