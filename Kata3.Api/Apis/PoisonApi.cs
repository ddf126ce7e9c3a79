using System.Text.Json;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using StackExchange.Redis;

namespace Kata3.Api.Apis;

/// <summary>The poison list: queue entries no worker could run, newest first, with why.</summary>
internal static class PoisonApi
{
    public const int MaxLimit = 1000;

    public static async Task<Results<Ok<PoisonList>, ValidationProblem>> ListPoisonAsync(
        IConnectionMultiplexer redis, int limit = 20)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["limit"] = [$"'limit' must be between 1 and {MaxLimit}."],
            });
        }

        // Workers push set-aside entries on the left, so the head is the newest.
        var db = redis.GetDatabase();
        var length = db.ListLengthAsync(QueueKeys.Poison);
        var newest = db.ListRangeAsync(QueueKeys.Poison, 0, limit - 1);
        return TypedResults.Ok(new PoisonList(await length, [.. (await newest).Select(v => Parse(v.ToString()))]));
    }

    // Anything not in the workers' shape is returned whole as the entry, rather than hidden.
    private static PoisonEntry Parse(string stored)
    {
        try
        {
            using var json = JsonDocument.Parse(stored);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("entry", out var entry) && entry.ValueKind == JsonValueKind.String)
            {
                return new PoisonEntry(Text(root, "reason"), entry.GetString()!, Text(root, "workerId"),
                    DateTimeOffset.TryParse(Text(root, "at"), out var at) ? at : null);
            }
        }
        catch (JsonException)
        {
        }
        return new PoisonEntry(null, stored, null, null);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

public sealed record PoisonEntry(string? Reason, string Entry, string? WorkerId, DateTimeOffset? At);
public sealed record PoisonList(long Length, IReadOnlyList<PoisonEntry> Items);
