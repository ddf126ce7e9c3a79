using Microsoft.Extensions.Configuration;

namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// Answers "would Aspire's Redis and PostgreSQL containers start here?" for Kata3:Infrastructure=auto.
/// A runtime that answers is not enough: it must also have, or be able to pull, both images.
/// </summary>
internal static class ContainerRuntimeProbe
{
    private static readonly TimeSpan InfoTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan InspectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(2);

    public static (bool Usable, string Reason) Probe(IConfiguration configuration) =>
        ProbeAsync(configuration).GetAwaiter().GetResult();

    private static async Task<(bool Usable, string Reason)> ProbeAsync(IConfiguration configuration)
    {
        // The same setting, and default, that Aspire uses to pick its runtime.
        var runtime = configuration["ASPIRE_CONTAINER_RUNTIME"]
            ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"]
            ?? "docker";

        var info = await HostProcess.RunAsync(runtime, ["info"], InfoTimeout).ConfigureAwait(false);
        if (!info.Succeeded)
        {
            return (false, $"{runtime} info failed: {info.Summary}");
        }

        foreach (var image in AspireImages())
        {
            var inspect = await HostProcess.RunAsync(runtime, ["image", "inspect", image], InspectTimeout).ConfigureAwait(false);
            if (inspect.Succeeded)
            {
                continue;
            }

            var pull = await HostProcess.RunAsync(runtime, ["pull", image], PullTimeout).ConfigureAwait(false);
            if (!pull.Succeeded)
            {
                return (false, $"{runtime} answers but cannot provide {image}: {pull.Summary}");
            }
        }

        return (true, $"{runtime} answers and has the redis and postgres images");
    }

    /// <summary>
    /// The images this Aspire version would run, read from the resources' ContainerImageAnnotation
    /// on a scratch builder that is never built, so an Aspire upgrade cannot leave them stale.
    /// </summary>
    private static IEnumerable<string> AspireImages()
    {
        var scratch = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = [], DisableDashboard = true });
        IResource[] resources = [scratch.AddRedis("redis").Resource, scratch.AddPostgres("postgres").Resource];
        foreach (var resource in resources)
        {
            yield return resource.TryGetContainerImageName(out var image)
                ? image
                : throw new InvalidOperationException($"Aspire's {resource.Name} resource has no container image.");
        }
    }
}
