using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kata3.AppHost.Infrastructure;

/// <summary>PostgreSQL's own binaries as an Aspire executable, plus one database on it.</summary>
internal static class LocalPostgres
{
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddLocalPostgresDatabase(
        this IDistributedApplicationBuilder builder, string serverName, string databaseName, LocalDataDirectory data)
    {
        var binaries = HostProcess.FindPostgres();
        var postgresPath = binaries?.Postgres;

        // postgres refuses to run as root: drop to the postgres user with setpriv, which execs in place.
        // When PostgreSQL is missing, the bare name makes DCP report FailedToStart, as for redis-server.
        var asRoot = InfrastructureSettings.RunningAsRoot && binaries is not null;
        var setprivPath = HostProcess.FindOnPath("setpriv") ?? "/usr/bin/setpriv";
        string[] dropToPostgres = asRoot ? HostProcess.DropTo(LocalPostgresServerResource.OsUser) : [];

        var password = builder.AddResource(new ParameterResource($"{serverName}-password", _ => data.GetOrCreatePassword(serverName), secret: true));
        var server = new LocalPostgresServerResource(serverName, asRoot ? setprivPath : postgresPath ?? "postgres", password.Resource);
        var database = new LocalPostgresDatabaseResource(databaseName, databaseName, server);
        server.Databases[database.Name] = database.DatabaseName;
        string DataPath() => Path.Combine(data.PostgresDirectory, "data");
        var started = false;

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            if (binaries is not { Initdb: var initdbPath })
            {
                logger.LogError("PostgreSQL's postgres/initdb were not found on PATH or in /usr/lib/postgresql/*/bin. "
                    + "Install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`) or run with Kata3:Infrastructure=containers.");
                return;
            }

            var secret = await server.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
            await PostgresInitializer.EnsureClusterAsync(
                initdbPath, asRoot ? (setprivPath, dropToPostgres) : null, DataPath(), secret!, logger, cancellationToken).ConfigureAwait(false);
            started = true;
        });

        // ApplicationStopping runs before DCP stops the resources: a clean shutdown even with clients connected.
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() =>
            {
                if (started)
                {
                    PostgresInitializer.StopFast(DataPath(), TimeSpan.FromSeconds(10));
                }
            });
            return Task.CompletedTask;
        });

        string? serverConnectionString = null;
        string? databaseConnectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, cancellationToken) =>
            serverConnectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false));
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, cancellationToken) =>
            databaseConnectionString = await database.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false));

        // Pooling=false: the AppHost holds no idle sessions that would hold up PostgreSQL's shutdown.
        string AdminConnectionString() => (serverConnectionString
            ?? throw new InvalidOperationException($"The '{serverName}' connection string is not available yet.")) + ";Database=postgres;Pooling=false";

        var databaseState = new DatabaseStatePublisher(server, database);
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, cancellationToken) =>
        {
            if (await PostgresInitializer.CreateDatabasesAsync(AdminConnectionString(), server, @event.Services, cancellationToken).ConfigureAwait(false))
            {
                await databaseState.MarkCreatedAsync(@event.Services.GetRequiredService<ResourceNotificationService>()).ConfigureAwait(false);
            }
        });

        // The database turns Running after CREATE DATABASE and healthy once it answers: WaitFor(database) is honest.
        var serverCheck = $"{serverName}_check";
        var databaseCheck = $"{databaseName}_check";
        builder.Services.AddHealthChecks()
            .AddNpgSql(_ => AdminConnectionString(), name: serverCheck)
            .AddNpgSql(_ => (databaseConnectionString
                ?? throw new InvalidOperationException($"The '{databaseName}' connection string is not available yet.")) + ";Pooling=false", name: databaseCheck);

        // Aspire copies state only to children of containers: the database gets its own from the server's.
        builder.Eventing.Subscribe<InitializeResourceEvent>(database, (@event, cancellationToken) =>
        {
            var stopped = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped;
            _ = databaseState.FollowServerAsync(@event.Notifications, stopped);
            return Task.CompletedTask;
        });

        builder.AddResource(server)
            .WithEndpoint(name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithEndpoint(LocalPostgresServerResource.PrimaryEndpointName, endpoint => endpoint.TargetHost = "127.0.0.1")
            .WithArgs(context =>
            {
                foreach (var argument in asRoot ? [.. dropToPostgres, postgresPath!] : Array.Empty<string>())
                {
                    context.Args.Add(argument);
                }

                // Loopback TCP only, and no Unix socket (its default directory may not exist or be writable).
                context.Args.Add("-D");
                context.Args.Add(DataPath());
                context.Args.Add("-p");
                context.Args.Add(server.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
            })
            .WithHealthCheck(serverCheck)
            .WithIconName("DatabaseMultiple");

        return builder.AddResource(database)
            .WithHealthCheck(databaseCheck)
            .WithIconName("Database");
    }
}
