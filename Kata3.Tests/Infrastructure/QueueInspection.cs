using System.Diagnostics;
using System.Text.Json;
using Kata3.Contracts;
using StackExchange.Redis;
using Xunit.Sdk;

namespace Kata3.Tests.Infrastructure;

/// <summary>What the Redis side of the queue holds, read with the test's own connection.</summary>
public static class QueueInspection
{
    public static async Task<IReadOnlyList<string>> ListAsync(this Kata3App app, string key) =>
        [.. (await app.Redis.ListRangeAsync(key)).Select(v => v.ToString())];

    /// <summary>The job ids named by the job messages in a list (entries that are not job messages are skipped).</summary>
    public static async Task<IReadOnlyList<Guid>> JobIdsInListAsync(this Kata3App app, string key) =>
        [.. (await app.ListAsync(key)).Select(JobIdOf).OfType<Guid>()];

    public static Task<IReadOnlyList<Guid>> ReadyJobIdsAsync(this Kata3App app) => app.JobIdsInListAsync(QueueKeys.Ready);

    /// <summary>The OS process id of a worker replica, from its heartbeat; waits for the first beat.</summary>
    public static async Task<int> WorkerPidAsync(this Kata3App app, string workerId, TimeSpan timeout)
    {
        var pid = 0;
        string? value = null;
        await Eventually.Async(async () =>
        {
            value = await app.Redis.StringGetAsync(QueueKeys.Heartbeat(workerId));
            if (value is null)
            {
                return false;
            }
            using var json = JsonDocument.Parse(value);
            pid = json.RootElement.GetProperty("pid").GetInt32();
            return pid > 0;
        }, timeout, () => $"no heartbeat with a pid at {QueueKeys.Heartbeat(workerId)}; last value: {value ?? "(none)"}");
        return pid;
    }

    /// <summary>
    /// The replica ids, once every replica is healthy in the app model AND beats in Redis from a live
    /// process. The app model alone is not enough: its HTTP health check can reach the replicas'
    /// shared endpoint, and so report a replica healthy before that replica listens.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WaitForWorkersAtWorkAsync(this Kata3App app)
    {
        var replicas = await app.WaitForHealthyWorkersAsync(app.Workers, CancellationToken.None);
        var silent = replicas.ToList();
        try
        {
            await Eventually.Async(async () =>
            {
                silent = [];
                foreach (var id in replicas)
                {
                    if (!await IsBeatingAsync(app, id))
                    {
                        silent.Add(id);
                    }
                }
                return silent.Count == 0;
            }, Kata3App.DefaultTimeout, () => $"no live heartbeat from {string.Join(", ", silent)}");
        }
        catch (FailException failure)
        {
            // Say what the silent replicas last wrote: a replica that never beats is otherwise a mystery.
            var logs = new System.Text.StringBuilder(failure.Message);
            foreach (var id in silent)
            {
                logs.AppendLine().Append($"--- last lines of {id}:");
                try
                {
                    var lines = await app.GetLogsAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                    logs.AppendLine().AppendJoin(Environment.NewLine, lines.TakeLast(30));
                }
                catch (TimeoutException)
                {
                    logs.AppendLine().Append("(its logs could not be read within 10 s)");
                }
            }
            Assert.Fail(logs.ToString());
        }
        return replicas;
    }

    private static async Task<bool> IsBeatingAsync(Kata3App app, string workerId)
    {
        string? value = await app.Redis.StringGetAsync(QueueKeys.Heartbeat(workerId));
        if (value is null)
        {
            return false;
        }
        using var json = JsonDocument.Parse(value);
        try
        {
            using var process = Process.GetProcessById(json.RootElement.GetProperty("pid").GetInt32());
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // a stale beat from a process that is gone (killed, not yet expired)
        }
    }

    /// <summary>The entries of kata3:jobs:poison as (reason, raw entry); entries in another shape are returned with a null reason.</summary>
    public static async Task<IReadOnlyList<PoisonEntry>> PoisonEntriesAsync(this Kata3App app)
    {
        var entries = new List<PoisonEntry>();
        foreach (var value in await app.ListAsync(QueueKeys.Poison))
        {
            entries.Add(ParsePoison(value));
        }
        return entries;
    }

    private static PoisonEntry ParsePoison(string value)
    {
        try
        {
            using var json = JsonDocument.Parse(value);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("entry", out var entry) && entry.ValueKind == JsonValueKind.String)
            {
                var reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                return new PoisonEntry(reason, entry.GetString()!, value);
            }
        }
        catch (JsonException)
        {
        }
        return new PoisonEntry(null, value, value);
    }

    private static Guid? JobIdOf(string entry)
    {
        try
        {
            using var json = JsonDocument.Parse(entry);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("jobId", out var id) && id.TryGetGuid(out var jobId)
                ? jobId
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>One entry of the poison list: why it was set aside, the raw text that was set aside, and the stored value.</summary>
public sealed record PoisonEntry(string? Reason, string Entry, string Stored);
