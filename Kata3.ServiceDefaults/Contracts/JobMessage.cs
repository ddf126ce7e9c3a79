using System.Data.Common;
using System.Text;
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
    /// <summary>
    /// The only message layout in use; a consumer runs no other. Every version keeps the job's id
    /// as the top-level string property "jobId" (see <see cref="TryReadJobId(ReadOnlySpan{byte})"/>).
    /// </summary>
    public const int CurrentVersion = 1;

    /// <summary>
    /// The jobs columns <see cref="FromRow"/> reads, in its order: the select list (or RETURNING
    /// list) of every statement whose rows become messages.
    /// </summary>
    public const string RowColumns = "id, order_id, enqueued_at, trace_parent, trace_state, priority";

    /// <summary>
    /// The message for a jobs row read as <c>SELECT <see cref="RowColumns"/></c> (more columns may
    /// follow): how the API and the sweeper rebuild a message from PostgreSQL.
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
            // A missing id or time would deserialize as Guid.Empty or year 1: not a message.
            return JsonSerializer.Deserialize(raw, JobMessageJsonContext.Default.JobMessage) is { } message
                && message.JobId != Guid.Empty && message.OrderId != Guid.Empty && message.EnqueuedAt != default
                ? message
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The job an entry names, whatever its version or shape otherwise: how a worker finds the row
    /// behind an entry it cannot run, and how the sweeper lists what Redis holds. Null when the
    /// entry is not a JSON object with a "jobId" that is a GUID.
    /// </summary>
    public static Guid? TryReadJobId(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isJobId = reader.ValueTextEquals("jobId"u8);
                reader.Read();
                if (isJobId)
                {
                    return reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var jobId) && jobId != Guid.Empty
                        ? jobId
                        : null;
                }
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="TryReadJobId(ReadOnlySpan{byte})"/>
    public static Guid? TryReadJobId(string? raw) =>
        string.IsNullOrWhiteSpace(raw) ? null : TryReadJobId(Encoding.UTF8.GetBytes(raw));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JobMessage))]
internal sealed partial class JobMessageJsonContext : JsonSerializerContext;
