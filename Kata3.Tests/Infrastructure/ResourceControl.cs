using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kata3.Tests.Infrastructure;

/// <summary>
/// Stopping and starting the app's resources through the app model, as the dashboard's Stop and
/// Start buttons do, and waiting until they have really stopped or are really back.
/// </summary>
public static class ResourceControl
{
    public static IResource Resource(this Kata3App app, string name) =>
        app.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    /// <summary>Stops every instance of a resource (each worker replica, or Redis) and waits until each has exited.</summary>
    public static async Task StopAndWaitForExitAsync(this Kata3App app, string name, TimeSpan timeout)
    {
        var result = await app.App.ResourceCommands.ExecuteCommandAsync(app.Resource(name), KnownResourceCommands.StopCommand)
            .WaitAsync(timeout);
        Assert.True(result.Success, $"stop {name}: {result.Message}");
        await app.WaitForInstancesAsync(name, IsExited, timeout);
    }

    /// <summary>Starts every instance of a resource again and waits until each is running and healthy.</summary>
    public static async Task StartAndWaitForHealthyAsync(this Kata3App app, string name, TimeSpan timeout)
    {
        var result = await app.App.ResourceCommands.ExecuteCommandAsync(app.Resource(name), KnownResourceCommands.StartCommand)
            .WaitAsync(timeout);
        Assert.True(result.Success, $"start {name}: {result.Message}");
        await app.WaitForInstancesAsync(name, IsHealthy, timeout);
    }

    /// <summary>Starts one stopped (or killed) instance, e.g. one replica, and waits until it is running and healthy.</summary>
    public static async Task StartInstanceAndWaitForHealthyAsync(this Kata3App app, string name, string resourceId, TimeSpan timeout)
    {
        var result = await app.App.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand)
            .WaitAsync(timeout);
        Assert.True(result.Success, $"start {resourceId}: {result.Message}");
        await app.App.ResourceNotifications.WaitForResourceAsync(name, e => e.ResourceId == resourceId && IsHealthy(e))
            .WaitAsync(timeout);
    }

    /// <summary>Stops one instance, e.g. one replica, and waits until it has exited.</summary>
    public static async Task StopInstanceAndWaitForExitAsync(this Kata3App app, string name, string resourceId, TimeSpan timeout)
    {
        var result = await app.App.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StopCommand)
            .WaitAsync(timeout);
        Assert.True(result.Success, $"stop {resourceId}: {result.Message}");
        await app.WaitForExitAsync(name, resourceId, timeout);
    }

    public static Task WaitForExitAsync(this Kata3App app, string name, string resourceId, TimeSpan timeout) =>
        app.App.ResourceNotifications.WaitForResourceAsync(name, e => e.ResourceId == resourceId && IsExited(e))
            .WaitAsync(timeout);

    /// <summary>
    /// Starts again whatever instance of the resource is not running, so that a test that failed half
    /// way does not leave its shared app broken for the next test. Best effort: it never throws,
    /// so it cannot hide the failure that brought it here.
    /// </summary>
    public static async Task RestoreAsync(this Kata3App app, string name, Action<string> log)
    {
        try
        {
            foreach (var id in await app.WaitForInstancesAsync(name, _ => true, TimeSpan.FromSeconds(10)))
            {
                if (!app.IsRunning(id))
                {
                    log($"restoring {id}");
                    await app.StartInstanceAndWaitForHealthyAsync(name, id, Kata3App.DefaultTimeout);
                }
            }
        }
        catch (Exception ex)
        {
            log($"could not restore {name}: {ex.Message}");
        }
    }

    /// <summary>Whether an instance is running now.</summary>
    public static bool IsRunning(this Kata3App app, string resourceId) =>
        app.App.ResourceNotifications.TryGetCurrentState(resourceId, out var e)
        && e.Snapshot.State?.Text == KnownResourceStates.Running;

    /// <summary>When the instance's current process started; a change means it was restarted.</summary>
    public static DateTime? StartedAt(this Kata3App app, string resourceId) =>
        app.App.ResourceNotifications.TryGetCurrentState(resourceId, out var e) ? e.Snapshot.StartTimeStamp : null;

    private static bool IsExited(ResourceEvent e) => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text);

    private static bool IsHealthy(ResourceEvent e) =>
        e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy;

    /// <summary>The number of instances a resource has: the app's replicas for the worker, else one.</summary>
    private static int InstanceCount(Kata3App app, string name) => name == ResourceNames.Worker ? app.Workers : 1;

    /// <summary>Waits until the latest state of every instance of the resource satisfies the condition; returns their ids.</summary>
    private static async Task<IReadOnlyCollection<string>> WaitForInstancesAsync(
        this Kata3App app, string name, Func<ResourceEvent, bool> condition, TimeSpan timeout)
    {
        var count = InstanceCount(app, name);
        var latest = new Dictionary<string, ResourceEvent>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // WatchAsync first replays every resource's current state, so a condition already met is seen at once.
            await foreach (var e in app.App.ResourceNotifications.WatchAsync(cts.Token))
            {
                if (e.Resource.Name != name)
                {
                    continue;
                }
                latest[e.ResourceId] = e;
                if (latest.Count >= count && latest.Values.All(condition))
                {
                    return latest.Keys;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {name}: "
            + string.Join(", ", latest.Values.Select(e => $"{e.ResourceId} {e.Snapshot.State?.Text} {e.Snapshot.HealthStatus}")));
    }
}
