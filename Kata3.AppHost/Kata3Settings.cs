using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Kata3.AppHost;

/// <summary>
/// The AppHost's "Kata3" section: `--Kata3:Workers=4` on the command line or `Kata3__Workers=4`
/// in the environment. Kata3:Infrastructure and the data keys are read by AddKata3Infrastructure.
/// </summary>
internal sealed class Kata3Settings
{
    public const string SectionName = "Kata3";

    /// <summary>Worker replicas.</summary>
    [Range(1, 64)]
    public int Workers { get; set; } = 2;

    /// <summary>Failure simulation in API and workers; unset leaves it to them (on in Development).</summary>
    public bool? FailureSimulation { get; set; }

    /// <summary>
    /// Share of orders whose trace is recorded (1 = every order, Aspire's default). The API
    /// decides when the POST arrives; the worker follows the decision carried in the message, so
    /// a sampled order is still one whole trace.
    /// </summary>
    [Range(0.0, 1.0)]
    public double TraceSampling { get; set; } = 1.0;

    public static Kata3Settings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(SectionName).Get<Kata3Settings>() ?? new Kata3Settings();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        return settings;
    }
}

internal static class SettingsForwarding
{
    /// <summary>
    /// Passes every key under <paramref name="section"/> to the project as its own setting under
    /// <paramref name="targetPrefix"/> (Kata3:Worker:Retry:MaxAttempts → Worker:Retry:MaxAttempts),
    /// so one AppHost command line tunes the whole app.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSettingsFrom(
        this IResourceBuilder<ProjectResource> project, IConfiguration configuration, string section, string targetPrefix = "")
    {
        foreach (var (key, value) in configuration.GetSection(section).AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                project.WithEnvironment((targetPrefix + key).Replace(":", "__"), value);
            }
        }
        return project;
    }
}

internal static class FailureSimulationSetting
{
    public static IResourceBuilder<ProjectResource> WithFailureSimulation(this IResourceBuilder<ProjectResource> project, bool? enabled) =>
        enabled is { } on ? project.WithEnvironment("FailureSimulation__Enabled", on ? "true" : "false") : project;
}

internal static class TraceSamplingSetting
{
    /// <summary>
    /// Below 1, samples traces by trace id, parent-based (OpenTelemetry's standard variables);
    /// set after Aspire's own OTEL_TRACES_SAMPLER=always_on, so it wins.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTraceSampling(this IResourceBuilder<ProjectResource> project, double ratio) =>
        ratio >= 1.0
            ? project
            : project.WithEnvironment("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
                .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", ratio.ToString(CultureInfo.InvariantCulture));
}

internal static class JobsUiSetting
{
    /// <summary>
    /// The jobs UI links each job to its trace on the dashboard, whose address only the AppHost
    /// knows (its own first URL); without one the UI shows trace ids without links.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithJobsUiDashboardLink(this IResourceBuilder<ProjectResource> api, IConfiguration configuration) =>
        configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is { } dashboard
            ? api.WithEnvironment("JobsUi__DashboardUrl", dashboard)
            : api;
}
