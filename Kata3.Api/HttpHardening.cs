using System.Net;
using Kata3.Api.JobsUi;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace Kata3.Api;

/// <summary>
/// What an API reachable from a network needs around every request: forwarded headers believed
/// only from configured proxies, the usual hardening response headers, OpenAPI only where wanted.
/// </summary>
internal static class HttpHardening
{
    public const string KnownProxiesKey = "ForwardedHeaders:KnownProxies";
    public const string KnownNetworksKey = "ForwardedHeaders:KnownNetworks";
    public const string OpenApiKey = "OpenApi:Enabled";

    /// <summary>
    /// X-Forwarded-For and -Proto are honoured only from the proxies (IP addresses) and networks
    /// (CIDR) configured under ForwardedHeaders; with none, from nobody (loopback included), so no
    /// client can choose its own rate-limit bucket. A bad entry stops the start, naming its key.
    /// </summary>
    public static IHostApplicationBuilder AddHttpHardening(this IHostApplicationBuilder builder)
    {
        var proxies = Read(builder.Configuration, KnownProxiesKey, "an IP address",
            text => IPAddress.TryParse(text, out var ip) ? (true, ip) : (false, IPAddress.None));
        var networks = Read(builder.Configuration, KnownNetworksKey, "a network in CIDR notation (e.g. 10.0.0.0/8)",
            text => IPNetwork.TryParse(text, out var network) ? (true, network) : (false, default));

        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies) options.KnownProxies.Add(proxy);
            foreach (var network in networks) options.KnownIPNetworks.Add(network);
        });
        return builder;
    }

    public static WebApplication UseHttpHardening(this WebApplication app)
    {
        // The middleware believes every sender when both lists are empty, so without a configured
        // proxy it is not used at all.
        var forwarding = app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        if (forwarding.KnownProxies.Count > 0 || forwarding.KnownIPNetworks.Count > 0)
        {
            app.UseForwardedHeaders();
        }
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts(); // only ever sent over HTTPS
        }
        // Set just before the headers go out, so error answers (whose headers the exception
        // handler clears) carry them too.
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                // The jobs UI needs its stylesheet and its forms; everything else stays closed.
                headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(JobsUiPaths.Root)
                    ? JobsUiPaths.ContentSecurityPolicy
                    : "default-src 'none'; frame-ancestors 'none'";
                headers["Cross-Origin-Resource-Policy"] = "same-origin";
                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }

    /// <summary>OpenAPI in Development, or wherever <c>OpenApi:Enabled</c> says so (false hides it in Development too).</summary>
    public static WebApplication MapOpenApiWhereEnabled(this WebApplication app)
    {
        if (app.Configuration.GetValue(OpenApiKey, app.Environment.IsDevelopment()))
        {
            app.MapOpenApi();
        }
        return app;
    }

    private static List<T> Read<T>(IConfiguration configuration, string key, string what, Func<string, (bool Ok, T Value)> parse)
    {
        var values = new List<T>();
        foreach (var entry in configuration.GetSection(key).GetChildren())
        {
            var (ok, value) = parse(entry.Value ?? "");
            values.Add(ok ? value : throw new InvalidOperationException($"{entry.Path} = '{entry.Value}' is not {what}."));
        }
        return values;
    }
}
