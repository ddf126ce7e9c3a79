using Kata3.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kata3.Tests.Fast;

/// <summary>The service defaults' OTLP/HTTP export at shutdown, against the tests' own OTLP receiver.</summary>
[Trait("Category", "Fast")]
public sealed class TelemetryShutdownTests
{
    [Fact]
    public async Task LogsWrittenJustBeforeShutdownAreExported()
    {
        using var receiver = new OtlpTraceReceiver();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        builder.Configuration["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
        builder.AddServiceDefaults();
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var logger = host.Services.GetRequiredService<ILogger<TelemetryShutdownTests>>();
            // One regular export first, as in a running service: the exporter's client is in use.
            logger.LogWarning("first words");
            await Eventually.Async(() => Task.FromResult(receiver.LogsMention("first words")), TimeSpan.FromSeconds(10),
                () => "no log record was exported while the host ran");

            // Then one that only the shutdown flush can send.
            logger.LogWarning("last words before shutdown");
            await host.StopAsync();
        }

        Assert.True(receiver.LogsMention("last words before shutdown"),
            "the log record written before shutdown never reached the OTLP endpoint");
    }
}
