using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Kata3;

/// <summary>
/// The defaults every Kata3 service shares: OpenTelemetry (traces, metrics, logs) exported to the
/// Aspire dashboard, health endpoints, service discovery and HTTP resilience.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Every health check; the AppHost's health check of each service asks it.</summary>
    public const string HealthEndpointPath = "/health";

    /// <summary>The liveness checks only.</summary>
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Adds OpenTelemetry, default health checks, service discovery and resilience.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>Configures logging, metrics and tracing, including Kata3's own meter and activity source.</summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(Kata3Telemetry.MeterName))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(Kata3Telemetry.ActivitySourceName)
                // Health probes run every few seconds; they would bury the order traces.
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthEndpointPath) &&
                    !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            // Over OTLP/HTTP the exporters take their clients from IHttpClientFactory, so the
            // resilience defaults wrapped them too: a second retry layer over the exporter's own,
            // and one disposed before the exporters, which made every process wait its 5 s
            // shutdown flush on exit.
            foreach (var exporterClient in (string[])["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"])
            {
#pragma warning disable EXTEXP0001 // evaluation API; the alternative is replacing the exporters' client factory
                builder.Services.AddHttpClient(exporterClient).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
            }
        }

        return builder;
    }

    /// <summary>Adds the liveness check that /alive reports; every check runs at most once a second, whoever asks.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        HealthCheckCache.Apply(builder.Services);

        return builder;
    }

    /// <summary>Maps /health (every check) and /alive (liveness checks only).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Exposed in every environment: the AppHost's WaitFor and the tests depend on them,
        // and they reveal nothing but Healthy/Unhealthy.
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live")
        });

        return app;
    }
}
