using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// Redis ("redis") and the PostgreSQL database ("kata3db" on server "postgres") that the services
/// use, the database through its two roles. Which hosting mode is behind them is invisible to the services.
/// </summary>
internal sealed record Kata3Infrastructure(
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> Database,
    DatabaseRoles DatabaseRoles);

internal static class InfrastructureExtensions
{
    private const string RedisName = ResourceNames.Redis;
    private const string PostgresName = ResourceNames.DatabaseServer;
    private const string DatabaseName = ResourceNames.Database;

    /// <summary>
    /// Adds Redis and PostgreSQL, as Aspire containers or as redis-server and postgres run from this
    /// machine, chosen by <c>Kata3:Infrastructure</c> (<c>auto</c>, <c>containers</c> or <c>local</c>).
    /// Local servers keep their data and generated passwords in <c>Kata3:DataDirectory</c>, or in a
    /// temporary directory removed on stop when <c>Kata3:EphemeralData</c> is true.
    /// </summary>
    /// <param name="builder">The AppHost's builder.</param>
    /// <returns>Both resources, with health checks, ready for WithReference and WaitFor.</returns>
    public static Kata3Infrastructure AddKata3Infrastructure(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var settings = InfrastructureSettings.Read(builder.Configuration);
        var (useContainers, reason) = settings.Mode switch
        {
            InfrastructureMode.Containers => (true, $"{InfrastructureSettings.ModeKey}=containers"),
            InfrastructureMode.Local => (false, $"{InfrastructureSettings.ModeKey}=local"),
            // A deployment manifest cannot describe this machine's binaries.
            _ when builder.ExecutionContext.IsPublishMode => (true, "publishing"),
            _ => ContainerRuntimeProbe.Probe(builder.Configuration),
        };

        LogOnStart(builder, useContainers
            ? $"Kata3 infrastructure: containers ({reason})"
            : $"Kata3 infrastructure: local ({reason}); data in {(settings.EphemeralData ? "a temporary directory" : settings.DataDirectory)}");

        return useContainers ? AddContainers(builder, settings) : AddLocal(builder, settings);
    }

    private static Kata3Infrastructure AddContainers(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        var redis = builder.AddRedis(RedisName).WithMaxMemory(settings.RedisMaxMemory);
        var postgres = builder.AddPostgres(PostgresName);

        // Volumes keep the data across restarts; ephemeral runs let it go with the containers.
        if (!settings.EphemeralData)
        {
            redis.WithDataVolume();
            postgres.WithDataVolume();
        }

        var database = postgres.AddDatabase(DatabaseName);
        return new Kata3Infrastructure(redis, database, DatabaseRoles.Add(builder, database, DatabaseName, postgres.Resource.PrimaryEndpoint));
    }

    private static Kata3Infrastructure AddLocal(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        var data = new LocalDataDirectory(settings);
        var redis = builder.AddLocalRedis(RedisName, data, settings.RedisMaxMemory);
        var database = builder.AddLocalPostgresDatabase(PostgresName, DatabaseName, data);

        if (settings.EphemeralData)
        {
            // ApplicationStopped comes after DCP has been told to stop the servers; the cleanup still
            // waits for their pid files to go. ProcessExit covers an app disposed without StopAsync.
            string[] pidFiles = ["redis/redis.pid", "postgres/data/postmaster.pid"];
            builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
            {
                @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(
                    () => data.DeleteIfEphemeral(pidFiles, TimeSpan.FromSeconds(20)));
                AppDomain.CurrentDomain.ProcessExit += (_, _) => data.DeleteIfEphemeral(pidFiles, TimeSpan.FromSeconds(5));
                return Task.CompletedTask;
            });
        }

        return new Kata3Infrastructure(redis, database, DatabaseRoles.Add(builder, database, DatabaseName, database.Resource.Parent.PrimaryEndpoint));
    }

    /// <summary>
    /// Gives a service Redis and the database as the application role (and, with
    /// <paramref name="ownsSchema"/>, the owner role for migrations), once both are ready.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithKata3Infrastructure(
        this IResourceBuilder<ProjectResource> service, Kata3Infrastructure infra, bool ownsSchema = false)
    {
        service.WithReference(infra.Redis).WaitFor(infra.Redis)
            .WithEnvironment($"ConnectionStrings__{ResourceNames.Database}", infra.DatabaseRoles.AppConnectionString)
            .WaitFor(infra.Database);
        return ownsSchema
            ? service.WithEnvironment($"ConnectionStrings__{ResourceNames.DatabaseOwner}", infra.DatabaseRoles.OwnerConnectionString)
            : service;
    }

    private static void LogOnStart(IDistributedApplicationBuilder builder, string message) =>
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            @event.Services.GetRequiredService<ILoggerFactory>()
                .CreateLogger(typeof(InfrastructureExtensions).FullName!)
                .LogInformation("{Message}", message);
            return Task.CompletedTask;
        });
}
