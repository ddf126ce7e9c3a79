using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Kata3.Contracts;

namespace Kata3.Api.Apis;

/// <summary>
/// Reads and validates the body of POST /orders. The body is read here rather than by model
/// binding so that every way it can be wrong (malformed JSON, a wrong type, too large, out of
/// range) becomes a validation problem that names the field.
/// </summary>
internal static class OrderRequestReader
{
    public const int MaxBodyBytes = 16 * 1024;
    public const int MaxProductLength = 200;
    public const int MaxQuantity = 10_000;
    public const decimal MaxPrice = 1_000_000m;
    public const int MaxIdempotencyKeyLength = 200;
    /// <summary>How far ahead an order may be scheduled.</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(365);

    // The fields by their names in JSON, so that an error names the field as the client spells it.
    private static readonly string[] Fields = ["product", "quantity", "price", "priority", "runAt", "delaySeconds"];

    // ISO 8601 date and time with seconds optional, a fraction of at most 7 digits, and an offset (Z or ±hh:mm).
    private static readonly Regex IsoWithOffset = new(
        @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));

    public static async Task<(NewOrder? Order, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest request, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        var errors = new Dictionary<string, string[]>();

        if (request.ContentLength > MaxBodyBytes)
        {
            errors["body"] = [$"The body must be at most {MaxBodyBytes} bytes."];
            return (null, errors);
        }
        if (!request.HasJsonContentType())
        {
            errors["body"] = ["The body must be JSON (Content-Type: application/json)."];
            return (null, errors);
        }

        var body = await ReadLimitedAsync(request.Body, cancellationToken);
        if (body is null)
        {
            errors["body"] = [$"The body must be at most {MaxBodyBytes} bytes."];
            return (null, errors);
        }

        CreateOrderRequest? dto;
        try
        {
            dto = JsonSerializer.Deserialize(body, OrderJsonContext.Default.CreateOrderRequest);
        }
        catch (JsonException ex)
        {
            // The path also names a property when the syntax breaks right after it: only a body
            // that is well-formed JSON can have a field of the wrong type.
            var field = IsWellFormed(body) ? FieldFromPath(ex.Path) : "body";
            errors[field] = [field == "body"
                ? "The body is not valid JSON."
                : $"'{field}' has the wrong type or format."];
            return (null, errors);
        }

        if (dto is null)
        {
            errors["body"] = ["The body must be a JSON object with product, quantity and price."];
            return (null, errors);
        }

        Validate(dto, errors);
        var schedule = ReadSchedule(dto, (time ?? TimeProvider.System).GetUtcNow(), errors);
        return errors.Count > 0
            ? (null, errors)
            : (new NewOrder(dto.Product!.Trim(), dto.Quantity!.Value, dto.Price!.Value, dto.Priority ?? JobPriority.Normal, schedule), errors);
    }

    /// <summary>
    /// Reads the optional Idempotency-Key and failure-simulation headers, adding any error to
    /// <paramref name="errors"/> under the header's name.
    /// </summary>
    public static (string? IdempotencyKey, int SimulateFailures) ReadHeaders(
        HttpRequest request, bool simulationEnabled, Dictionary<string, string[]> errors)
    {
        string? key = request.Headers[OrderHeaders.IdempotencyKey];
        if (key is not null && (key.Length is 0 or > MaxIdempotencyKeyLength || key.Any(char.IsControl)))
        {
            errors[OrderHeaders.IdempotencyKey] = [$"'{OrderHeaders.IdempotencyKey}' must be 1 to {MaxIdempotencyKeyLength} printable characters."];
        }

        string? simulate = request.Headers[FailureSimulationOptions.HeaderName];
        var failures = 0;
        if (simulate is not null && simulationEnabled)
        {
            if (simulate.Equals(FailureSimulationOptions.PermanentValue, StringComparison.OrdinalIgnoreCase))
            {
                failures = FailureSimulationOptions.Permanent;
            }
            else if (simulate.Equals(FailureSimulationOptions.HangValue, StringComparison.OrdinalIgnoreCase))
            {
                failures = FailureSimulationOptions.Hang;
            }
            else if (!int.TryParse(simulate, NumberStyles.None, CultureInfo.InvariantCulture, out failures) || failures > 100)
            {
                errors[FailureSimulationOptions.HeaderName] =
                    [$"'{FailureSimulationOptions.HeaderName}' must be a number of failures from 0 to 100, '{FailureSimulationOptions.PermanentValue}' or '{FailureSimulationOptions.HangValue}'."];
            }
        }
        return (key, failures);
    }

    /// <summary>
    /// What "the same request" means for an idempotency key: the same validated order. The schedule
    /// is added only when there is one, so an unscheduled order hashes as it did before schedules.
    /// </summary>
    public static string Hash(NewOrder order, int simulateFailures) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', [
            order.Product, order.Quantity.ToString(CultureInfo.InvariantCulture),
            order.Price.ToString("0.00", CultureInfo.InvariantCulture), order.Priority,
            simulateFailures.ToString(CultureInfo.InvariantCulture),
            .. order.Schedule is { } schedule ? [schedule.ToString()] : Array.Empty<string>()]))));

    /// <summary>
    /// The optional start time: runAt (with an offset) or delaySeconds, not both, at most
    /// <see cref="MaxScheduleAhead"/> ahead. A runAt already past is allowed: the order runs at once.
    /// </summary>
    private static OrderSchedule? ReadSchedule(CreateOrderRequest dto, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (dto.RunAt is not null && dto.DelaySeconds is not null)
        {
            errors["runAt"] = ["'runAt' and 'delaySeconds' are two ways to say when; give at most one."];
            return null;
        }
        if (dto.DelaySeconds is { } delay)
        {
            if (delay < 0 || delay > MaxScheduleAhead.TotalSeconds)
            {
                errors["delaySeconds"] = [$"'delaySeconds' must be a whole number from 0 to {MaxScheduleAhead.TotalSeconds:0} (365 days)."];
                return null;
            }
            return delay == 0 ? null : new OrderSchedule(null, delay);
        }
        if (dto.RunAt is null)
        {
            return null;
        }
        if (!IsoWithOffset.IsMatch(dto.RunAt)
            || !DateTimeOffset.TryParse(dto.RunAt, CultureInfo.InvariantCulture, DateTimeStyles.None, out var runAt))
        {
            errors["runAt"] = ["'runAt' must be an ISO 8601 date and time with an offset, e.g. 2026-12-24T18:00:00+01:00 or 2026-12-24T17:00:00Z."];
            return null;
        }
        if (runAt > now + MaxScheduleAhead)
        {
            errors["runAt"] = ["'runAt' must be at most 365 days ahead."];
            return null;
        }
        // Kept even when already past (the order then runs at once): a replay must hash alike.
        return new OrderSchedule(runAt.ToUniversalTime(), null);
    }

    private static void Validate(CreateOrderRequest dto, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(dto.Product))
            errors["product"] = ["'product' is required and must not be empty."];
        else if (dto.Product.Trim().Length > MaxProductLength)
            errors["product"] = [$"'product' must be at most {MaxProductLength} characters."];
        else if (!IsPrintableText(dto.Product))
            errors["product"] = ["'product' must be printable text: no control characters (NUL among them) and no unpaired surrogates."];

        if (dto.Quantity is null)
            errors["quantity"] = ["'quantity' is required."];
        else if (dto.Quantity is <= 0 or > MaxQuantity)
            errors["quantity"] = [$"'quantity' must be between 1 and {MaxQuantity}."];

        if (dto.Price is null)
            errors["price"] = ["'price' is required."];
        else if (dto.Price <= 0 || dto.Price > MaxPrice)
            errors["price"] = [$"'price' must be greater than 0 and at most {MaxPrice}."];
        else if (decimal.Round(dto.Price.Value, 2) != dto.Price.Value)
            errors["price"] = ["'price' must have at most two decimal places."];

        if (dto.Priority is not null && !JobPriority.IsValid(dto.Priority))
            errors["priority"] = ["'priority' must be high, normal or low."];
    }

    /// <summary>
    /// Text PostgreSQL can store and a person can read: well-formed UTF-16 (no unpaired surrogate,
    /// which cannot be encoded as UTF-8) without control characters (NUL cannot be stored at all).
    /// </summary>
    private static bool IsPrintableText(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var consumed) != System.Buffers.OperationStatus.Done
                || Rune.IsControl(rune))
            {
                return false;
            }
            rest = rest[consumed..];
        }
        return true;
    }

    // System.Text.Json reports where it failed as a JSON path such as "$.quantity".
    private static bool IsWellFormed(byte[] json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string FieldFromPath(string? path)
    {
        if (path is not { Length: > 2 } || !path.StartsWith("$.", StringComparison.Ordinal))
        {
            return "body";
        }
        var name = path[2..].Split('.', '[')[0];
        return Fields.FirstOrDefault(f => f.Equals(name, StringComparison.OrdinalIgnoreCase)) ?? name.ToLowerInvariant();
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

// Strict: numbers must be JSON numbers, and a body with duplicate or trailing junk is malformed.
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(CreateOrderRequest))]
internal sealed partial class OrderJsonContext : JsonSerializerContext;
