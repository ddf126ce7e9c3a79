using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kata3.AppHost;

/// <summary>
/// On AppHost shutdown, stops the workers and the API, and waits for them to exit, before the
/// orchestrator stops everything at once: a stopping worker needs PostgreSQL and Redis to finish
/// or hand back its jobs, and without this they went down with it (every job in flight was left
/// to its lease, "abandoned"). ApplicationStopping callbacks run before any hosted service (the
/// orchestrator among them) is stopped, and the host waits for them.
/// </summary>
internal sealed class StopServicesFirst(
    DistributedApplicationModel model,
    ResourceCommandService commands,
    ResourceNotificationService notifications,
    IHostApplicationLifetime lifetime,
    ILogger<StopServicesFirst> logger) : IHostedService
{
    // Past the workers' own ShutdownTimeout (8 s), with room for their exit.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() => StopServicesAsync().GetAwaiter().GetResult());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task StopServicesAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var services = model.Resources.Where(r => r.Name is ResourceNames.Worker or ResourceNames.Api).ToList();
        try
        {
            await Task.WhenAll(services.Select(resource => StopAndWaitAsync(resource, timeout.Token)));
        }
        catch (Exception ex)
        {
            // Never hold up the shutdown: the orchestrator stops whatever is left.
            logger.LogWarning("Could not stop the services before Redis and PostgreSQL: {Error}", ex.Message);
        }
    }

    private async Task StopAndWaitAsync(IResource resource, CancellationToken cancellationToken)
    {
        var count = resource.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;
        await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, cancellationToken);

        // WatchAsync first replays every instance's current state, so instances already gone are seen at once.
        var exited = new Dictionary<string, bool>();
        await foreach (var e in notifications.WatchAsync(cancellationToken))
        {
            if (e.Resource.Name != resource.Name)
            {
                continue;
            }
            exited[e.ResourceId] = KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text)
                || e.Snapshot.State?.Text == KnownResourceStates.NotStarted;
            if (exited.Count >= count && exited.Values.All(x => x))
            {
                return;
            }
        }
    }
}

internal static class StopServicesFirstExtensions
{
    public static IDistributedApplicationBuilder StopServicesFirst(this IDistributedApplicationBuilder builder)
    {
        builder.Services.AddHostedService<StopServicesFirst>();
        return builder;
    }
}
