using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Kata3.Api.Apis;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>The operator routes' side of PostgreSQL: jobs by status, and dead letters sent back to the queue.</summary>
internal sealed class JobAdminStore(NpgsqlDataSource dataSource, DatabasePools pools)
{
    /// <summary>
    /// One page of jobs in a status (and of one priority, unless <paramref name="priority"/> is null),
    /// after <paramref name="after"/> (the last job of the previous page) in the status' order; the
    /// cursor of the next page, or null on the last.
    /// </summary>
    public Task<JobPage> ListAsync(string status, string? priority, int limit, JobCursor? after, CancellationToken cancellationToken) =>
        pools.ReadAsync(() => ReadPageAsync(status, priority, limit, after, cancellationToken));

    private async Task<JobPage> ReadPageAsync(string status, string? priority, int limit, JobCursor? after, CancellationToken cancellationToken)
    {
        var (column, direction) = JobListOrder.For(status);
        var comparison = direction == "ASC" ? ">" : "<";
        await using var command = dataSource.CreateCommand($"""
            SELECT id, order_id, status, attempts, error, updated_at, {column}, priority
            FROM jobs
            WHERE status = @status {(priority is null ? "" : "AND priority = @priority")} {(after is null ? "" : $"AND ({column}, id) {comparison} (@after_at, @after_id)")}
            ORDER BY {column} {direction}, id {direction}
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("priority", (object?)priority ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", limit + 1);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("after_at", cursor.At);
            command.Parameters.AddWithValue("after_id", cursor.JobId);
        }

        var items = new List<JobSummary>();
        JobCursor? last = null;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (items.Count < limit && await reader.ReadAsync(cancellationToken))
        {
            items.Add(new JobSummary(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(7)));
            last = new JobCursor(reader.GetFieldValue<DateTimeOffset>(6), reader.GetGuid(0));
        }
        // One row more than the page was asked for: there is a next page.
        var more = await reader.ReadAsync(cancellationToken);
        return new JobPage(items, more ? last!.Value.Encode() : null);
    }

    /// <summary>
    /// Sends dead jobs (one, or all when <paramref name="jobId"/> is null) back to the queue with a
    /// fresh attempt budget, their orders back to pending, and any simulated failure lifted.
    /// Returns the messages to push.
    /// </summary>
    public async Task<IReadOnlyList<JobMessage>> RequeueDeadAsync(Guid? jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH requeued AS (
                UPDATE jobs
                SET status = @queued, run_at = now(), retry_base = attempts, simulate_failures = 0,
                    error = NULL, completed_at = NULL, updated_at = now(),
                    -- A cancel asked for while it ran, before it died, is over: the new run must be claimable.
                    cancel_requested_at = NULL
                WHERE status = @dead AND (@job_id::uuid IS NULL OR id = @job_id)
                RETURNING {JobMessage.RowColumns}
            ), orders_back AS (
                UPDATE orders SET status = @pending, updated_at = now()
                FROM requeued WHERE orders.id = requeued.order_id
            )
            SELECT {JobMessage.RowColumns} FROM requeued
            """);
        command.Parameters.AddWithValue("queued", JobStatus.Queued);
        command.Parameters.AddWithValue("dead", JobStatus.Dead);
        command.Parameters.AddWithValue("pending", OrderStatus.Pending);
        command.Parameters.AddWithValue("job_id", (object?)jobId ?? DBNull.Value);

        var messages = new List<JobMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(JobMessage.FromRow(reader));
        }
        return messages;
    }

    /// <summary>The job's status, or null when there is no such job.</summary>
    public Task<string?> GetStatusAsync(Guid jobId, CancellationToken cancellationToken) => pools.ReadAsync(async () =>
    {
        await using var command = dataSource.CreateCommand("SELECT status FROM jobs WHERE id = @job_id");
        command.Parameters.AddWithValue("job_id", jobId);
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    });
}

/// <summary>
/// The order GET /jobs lists a status in, each served by that status' index (Schema, migration 6):
/// what runs next first for queued jobs, the latest first for the others.
/// </summary>
internal static class JobListOrder
{
    public static (string Column, string Direction) For(string status) => status switch
    {
        JobStatus.Queued or JobStatus.Scheduled => ("run_at", "ASC"),
        JobStatus.Processing => ("started_at", "DESC"),
        JobStatus.Completed => ("completed_at", "DESC"),
        JobStatus.Dead or JobStatus.Cancelled => ("updated_at", "DESC"),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a job status."),
    };
}

/// <summary>Where a page of jobs ends: the last job's sort value and id, opaque to clients.</summary>
internal readonly record struct JobCursor(DateTimeOffset At, Guid JobId)
{
    public string Encode() =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{At.UtcTicks}.{JobId:N}"));

    public static bool TryDecode(string? text, out JobCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(text) || text.Length > 100 || !Base64Url.IsValid(text))
        {
            return false;
        }
        var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(text)).Split('.');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || !Guid.TryParseExact(parts[1], "N", out var jobId))
        {
            return false;
        }
        cursor = new JobCursor(new DateTimeOffset(ticks, TimeSpan.Zero), jobId);
        return true;
    }
}
