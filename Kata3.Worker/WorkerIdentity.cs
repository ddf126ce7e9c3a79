namespace Kata3.Worker;

/// <summary>
/// Which replica this is. Under Aspire it is the replica's resource name (e.g. "worker-ab12cd34"),
/// the same name the dashboard shows, so a job's worker_id points at a replica you can find.
/// </summary>
public sealed record WorkerIdentity(string Id)
{
    public static WorkerIdentity FromConfiguration(IConfiguration configuration)
    {
        // Aspire sets OTEL_SERVICE_NAME to the resource name and service.instance.id to the replica suffix.
        var service = configuration["OTEL_SERVICE_NAME"];
        var instance = (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0] == "service.instance.id")
            .Select(pair => pair[1])
            .FirstOrDefault();

        return !string.IsNullOrEmpty(service) && !string.IsNullOrEmpty(instance)
            ? new WorkerIdentity($"{service}-{instance}")
            : new WorkerIdentity($"{Environment.MachineName}-{Environment.ProcessId}");
    }
}
