using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// redis-server from this machine, with the same endpoint name and connection-string shape as
/// Aspire's Redis container ("host:port,password=..."), so clients cannot tell the difference.
/// </summary>
internal sealed class LocalRedisResource(string name, string command, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory: "/"), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => field ??= new EndpointReference(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");
}

internal static class LocalRedis
{
    /// <summary>The operating-system user redis-server runs as when the AppHost is root.</summary>
    public const string OsUser = "redis";

    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalDataDirectory data, string maxMemory)
    {
        var serverPath = HostProcess.FindOnPath("redis-server");

        // Root does not run a network server: drop to the redis user, as PostgreSQL drops to postgres.
        var asRoot = InfrastructureSettings.RunningAsRoot && serverPath is not null;
        var setprivPath = HostProcess.FindOnPath("setpriv") ?? "/usr/bin/setpriv";

        // A secret parameter, so the dashboard masks it; its value lives in the data directory.
        var password = builder.AddResource(new ParameterResource($"{name}-password", _ => data.GetOrCreatePassword(name), secret: true));
        var redis = new LocalRedisResource(name, asRoot ? setprivPath : serverPath ?? "redis-server", password.Resource);
        string ConfigFile() => Path.Combine(data.RedisDirectory, "redis.conf");

        // The password reaches redis-server through a 0600 config file: the command line is
        // visible in the dashboard and in `ps`.
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (@event, cancellationToken) =>
        {
            // Not installed: say what to install; DCP then fails to launch it and marks it FailedToStart.
            if (serverPath is null)
            {
                var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(redis);
                logger.LogError("redis-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install redis-server`) or run with Kata3:Infrastructure=containers.");
                return;
            }

            var secret = await redis.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
            LocalDataDirectory.WriteSecretFile(ConfigFile(), RedisConfig(data.RedisDirectory, secret!, data.IsEphemeral, maxMemory));
            LocalDataDirectory.GiveTo(data.RedisDirectory, OsUser); // its data and 0600 config, kept from runs as root too
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, cancellationToken) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false));

        // Same check Aspire attaches to its Redis container: WaitFor(redis) waits for a PING.
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException($"The '{name}' connection string is not available yet."),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithEndpoint(LocalRedisResource.PrimaryEndpointName, endpoint => endpoint.TargetHost = "127.0.0.1")
            .WithArgs(context =>
            {
                foreach (var argument in asRoot ? [.. HostProcess.DropTo(OsUser), serverPath!] : Array.Empty<string>())
                {
                    context.Args.Add(argument);
                }

                context.Args.Add(ConfigFile());
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            })
            .WithHealthCheck(healthCheckKey)
            .WithIconName("Memory");
    }

    /// <summary>
    /// Loopback only, password required. Persistent data gets the append-only file; ephemeral data
    /// gets no persistence at all. The pid file lets cleanup wait for the server to be gone. At its
    /// memory limit Redis refuses new writes rather than evicting: an evicted key would be a lost
    /// job, an in-hand list or a lock.
    /// </summary>
    private static string RedisConfig(string directory, string password, bool ephemeral, string maxMemory) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            # Generated by Kata3.AppHost on every start; edits are overwritten.
            bind 127.0.0.1
            protected-mode yes
            requirepass "{password}"
            dir "{directory}"
            pidfile "{Path.Combine(directory, "redis.pid")}"
            daemonize no
            logfile ""
            maxmemory {maxMemory}
            maxmemory-policy noeviction
            appendonly {(ephemeral ? "no" : "yes")}
            {(ephemeral ? "save \"\"" : "# default RDB snapshots as well")}

            """);
}
