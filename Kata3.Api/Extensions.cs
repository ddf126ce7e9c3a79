using Kata3.Api;
using Kata3.Api.Data;
using Kata3.Api.Queue;
using Kata3.Contracts;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

internal static class ApiExtensions
{
    /// <summary>Registers everything the orders API needs: PostgreSQL, Redis, the schema and OpenAPI.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Inserts are batched (group commit); the cap leaves room under PostgreSQL's 100 connections
        // for the worker replicas, and a request beyond it waits for a connection instead of failing.
        builder.AddNpgsqlDataSource(ResourceNames.Database,
            configureDataSourceBuilder: dataSource =>
            {
                dataSource.ConnectionStringBuilder.MaxPoolSize = 40;
                // The same few statements run thousands of times a second: prepare them once per
                // connection instead of having PostgreSQL parse and plan them every time.
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 10;
            });
        // The .NET thread pool, not StackExchange.Redis's dedicated threads, which spin while idle.
        builder.AddRedisClient(ResourceNames.Redis, configureOptions: redis => redis.SocketManager = SocketManager.ThreadPool);

        // The API is the one owner of the schema; it migrates before it starts serving.
        builder.Services.AddHostedService<SchemaMigrator>();
        builder.Services.AddOptions<FailureSimulationOptions>().BindConfiguration(FailureSimulationOptions.SectionName);
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobPublisher>();

        builder.Services.AddProblemDetails();
        builder.AddClientRateLimiting();
        builder.Services.AddExceptionHandler<InfrastructureExceptionHandler>();
        builder.Services.AddOpenApi();

        return builder;
    }
}
