using System.Diagnostics;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.JobsUi;

/// <summary>Job counts by status and priority.</summary>
public sealed record JobCounts(IReadOnlyDictionary<(string Status, string Priority), long> Cells)
{
    public long this[string status, string priority] => Cells.GetValueOrDefault((status, priority));
    public long Status(string status) => JobPriority.All.Sum(p => this[status, p]);
    public long Priority(string priority) => JobStatus.All.Sum(s => this[s, priority]);
    public long Total => Cells.Values.Sum();
}

/// <summary>A job's order and the trace its order started (W3C traceparent), for the job page.</summary>
public sealed record JobOrigin(Guid OrderId, string? TraceId);

/// <summary>What the jobs UI reads from PostgreSQL beyond the operator routes' stores.</summary>
internal sealed class JobsUiStore(NpgsqlDataSource dataSource, DatabasePools pools)
{
    /// <summary>How far back completed jobs are counted: jobs are kept for good, so all of them would grow without bound.</summary>
    public static readonly TimeSpan CompletedWindow = TimeSpan.FromHours(24);

    // One count per status, each through that status' partial index; completed ones only within
    // the window, so a page view costs what the live queue and the last day hold, not all history.
    private static readonly string CountSql = string.Join("\nUNION ALL\n", JobStatus.All.Select(status => $"""
        SELECT status, priority, count(*) FROM jobs
        WHERE status = '{status}'{(status == JobStatus.Completed ? " AND completed_at > now() - @completed_window" : "")}
        GROUP BY status, priority
        """));

    /// <summary>Jobs counted by status and priority (completed ones: within <see cref="CompletedWindow"/>).</summary>
    public Task<JobCounts> CountAsync(CancellationToken cancellationToken) => pools.ReadAsync(async () =>
    {
        await using var command = dataSource.CreateCommand(CountSql);
        command.Parameters.AddWithValue("completed_window", CompletedWindow);
        var cells = new Dictionary<(string, string), long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            cells[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        }
        return new JobCounts(cells);
    });

    /// <summary>The job's order and trace id, or null when there is no such job.</summary>
    public Task<JobOrigin?> FindAsync(Guid jobId, CancellationToken cancellationToken) => pools.ReadAsync(async () =>
    {
        await using var command = dataSource.CreateCommand("SELECT order_id, trace_parent FROM jobs WHERE id = @job_id");
        command.Parameters.AddWithValue("job_id", jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var traceParent = reader.IsDBNull(1) ? null : reader.GetString(1);
        var traceId = ActivityContext.TryParse(traceParent, null, out var context) ? context.TraceId.ToHexString() : null;
        return new JobOrigin(reader.GetGuid(0), traceId);
    });
}
