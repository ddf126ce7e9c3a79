using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Tests.Infrastructure;

/// <summary>
/// Freezing a process with SIGSTOP and thawing it with SIGCONT: what a long GC pause, a swapped-out
/// VM or a stalled host looks like from outside. The process keeps its sockets and its state.
/// </summary>
public static class ProcessSignals
{
    public static Task StopAsync(int pid) => SignalAsync(pid, "-STOP");

    public static Task ContinueAsync(int pid) => SignalAsync(pid, "-CONT");

    /// <summary>The OS process id of the app's redis-server, from its resource snapshot or else its listening port.</summary>
    public static async Task<int> RedisPidAsync(this Kata3App app, TimeSpan timeout)
    {
        var redis = await app.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Redis,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running).WaitAsync(timeout);
        if (redis.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
            && int.TryParse(value.ToString(), out var pid) && pid > 0)
        {
            return pid;
        }
        // redis-server names itself after its address in the process list.
        var endpoint = ConfigurationOptions.Parse((await app.App.GetConnectionStringAsync(ResourceNames.Redis))!).EndPoints[0];
        var port = endpoint switch
        {
            System.Net.DnsEndPoint dns => dns.Port,
            System.Net.IPEndPoint ip => ip.Port,
            _ => throw new InvalidOperationException($"unexpected Redis endpoint {endpoint}"),
        };
        var pgrep = await RunAsync("pgrep", "-f", $"redis-server .*:{port}");
        return int.Parse(pgrep.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]);
    }

    private static async Task SignalAsync(int pid, string signal) => await RunAsync("kill", signal, pid.ToString());

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
        return output;
    }
}
