using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kata3.Contracts;

/// <summary>
/// What the API puts on the Redis queue and the worker takes off it. PostgreSQL holds the job
/// itself; the message only names it and carries the trace context across the queue.
/// </summary>
public sealed record JobMessage(
    int Version,
    Guid JobId,
    Guid OrderId,
    DateTimeOffset EnqueuedAt,
    string? TraceParent,
    string? TraceState,
    string Priority = JobPriority.Normal)
{
    /// <summary>The only message layout in use; a consumer rejects any other.</summary>
    public const int CurrentVersion = 1;

    /// <summary>
    /// The message for a jobs row read as <c>SELECT id, order_id, enqueued_at, trace_parent,
    /// trace_state, priority</c>: how the API and the sweeper rebuild a message from PostgreSQL.
    /// </summary>
    public static JobMessage FromRow(DbDataReader row) => new(
        CurrentVersion,
        JobId: row.GetGuid(0),
        OrderId: row.GetGuid(1),
        EnqueuedAt: row.GetFieldValue<DateTimeOffset>(2),
        TraceParent: row.IsDBNull(3) ? null : row.GetString(3),
        TraceState: row.IsDBNull(4) ? null : row.GetString(4),
        Priority: row.GetString(5));

    public string Serialize() => JsonSerializer.Serialize(this, JobMessageJsonContext.Default.JobMessage);

    /// <summary>Parses a queue entry; null when it is not a job message at all.</summary>
    public static JobMessage? TryParse(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(raw, JobMessageJsonContext.Default.JobMessage);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JobMessage))]
internal sealed partial class JobMessageJsonContext : JsonSerializerContext;
