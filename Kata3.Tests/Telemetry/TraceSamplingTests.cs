using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kata3.Tests.Telemetry;

/// <summary>
/// Kata3:TraceSampling reaches the API and every worker as OpenTelemetry's standard sampler
/// variables (read from the app model; nothing needs to run).
/// </summary>
public sealed class TraceSamplingTests
{
    [Fact]
    public async Task ASamplingRatioBelowOneSamplesApiAndWorkersByTraceIdFollowingTheParent()
    {
        var environments = await ProjectEnvironmentsAsync("--Kata3:TraceSampling=0.25");

        foreach (var (resource, environment) in environments)
        {
            Assert.True(environment.TryGetValue("OTEL_TRACES_SAMPLER", out var sampler), $"{resource} has no OTEL_TRACES_SAMPLER");
            Assert.Equal("parentbased_traceidratio", sampler);
            Assert.Equal("0.25", environment["OTEL_TRACES_SAMPLER_ARG"]);
        }
    }

    [Fact]
    public async Task ByDefaultEveryTraceIsKeptAndNoSamplerIsSet()
    {
        var environments = await ProjectEnvironmentsAsync();

        foreach (var (resource, environment) in environments)
        {
            Assert.False(environment.ContainsKey("OTEL_TRACES_SAMPLER_ARG"), $"{resource} samples traces by default");
        }
    }

    private static async Task<Dictionary<string, Dictionary<string, string>>> ProjectEnvironmentsAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Kata3_AppHost>(
            ["--Kata3:EphemeralData=true", .. args]);
        var environments = new Dictionary<string, Dictionary<string, string>>();
        foreach (var name in new[] { ResourceNames.Api, ResourceNames.Worker })
        {
            var project = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name);
            // Publish: values that would need running endpoints (connection strings) stay unresolved.
            var configuration = await ExecutionConfigurationBuilder.Create(project)
                .WithEnvironmentVariablesConfig()
                .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance);
            environments[name] = configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
        }
        Assert.Equal(2, environments.Count);
        return environments;
    }
}
