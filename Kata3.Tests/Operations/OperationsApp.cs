using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Operations;

/// <summary>
/// One replica and short jobs: whether (and when) a job starts is observable at once. Also the
/// app of the dashboard's jobs resource and its commands.
/// </summary>
public sealed class OperationsApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300));

[CollectionDefinition(Name), StartsFirst]
public sealed class OperationsCollection : ICollectionFixture<OperationsApp>
{
    public const string Name = "Operating the queue";
}

/// <summary>The job columns the operations tests watch, read straight from PostgreSQL.</summary>
public static class JobTimes
{
    public sealed record JobState(string Status, DateTimeOffset RunAt, DateTimeOffset? StartedAt, DateTimeOffset Now, DateTimeOffset EnqueuedAt);

    public static async Task<JobState> JobStateAsync(this Kata3App app, Guid jobId)
    {
        await using var command = app.Database.CreateCommand(
            "SELECT status, run_at, started_at, clock_timestamp(), enqueued_at FROM jobs WHERE id = @id");
        command.Parameters.AddWithValue("id", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"job {jobId} is not in PostgreSQL");
        return new(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3),
            reader.GetFieldValue<DateTimeOffset>(4));
    }

    /// <summary>PostgreSQL's clock now: the one started_at and run_at are written with.</summary>
    public static async Task<DateTimeOffset> DatabaseNowAsync(this Kata3App app)
    {
        await using var command = app.Database.CreateCommand("SELECT clock_timestamp()");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetFieldValue<DateTimeOffset>(0);
    }

    /// <summary>
    /// The opposite of <see cref="Eventually"/>: checks the condition over the whole period and fails
    /// the moment it stops holding. Bounded in time; proves "not yet" rather than hoping.
    /// </summary>
    public static async Task StaysAsync(Func<Task<bool>> condition, TimeSpan period, Func<string> describe)
    {
        var end = DateTime.UtcNow + period;
        do
        {
            Assert.True(await condition(), $"stopped holding before {period.TotalSeconds:0.#} s were up: {describe()}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        while (DateTime.UtcNow < end);
        Assert.True(await condition(), $"stopped holding at the end of {period.TotalSeconds:0.#} s: {describe()}");
    }
}
