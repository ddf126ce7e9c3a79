using Kata3.Api.Data;
using Kata3.Api.Intake;
using Kata3.Api.JobsUi;
using Kata3.Api.Operations;
using Kata3.Api.Queue;
using Kata3.Contracts;

namespace Kata3.Api;

internal static class ApiExtensions
{
    /// <summary>Registers everything the orders API needs: PostgreSQL, Redis, the schema and OpenAPI.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddStoreClients(maxDatabaseConnections: 40);

        // The API is the one owner of the schema; it migrates before it starts serving.
        builder.Services.AddHostedService<SchemaMigrator>();
        // After the migration: /health turns green only once the first order will be as fast as the next.
        builder.Services.AddSingleton<ApiWarmup>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ApiWarmup>());
        builder.Services.AddHealthChecks().AddCheck<ApiWarmup>("warm-up");
        builder.Services.AddOptions<FailureSimulationOptions>().BindConfiguration(FailureSimulationOptions.SectionName);
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddSingleton<OrderIntake>();
        builder.Services.AddSingleton<JobAdminStore>();
        builder.Services.AddSingleton<JobPublisher>();
        builder.Services.AddSingleton<QueueStatsReader>();
        builder.Services.AddSingleton<QueueControl>();
        builder.Services.AddSingleton<OrderCancellation>();
        builder.Services.AddSingleton<DemoOrders>();
        builder.Services.AddHostedService<QueueGauges>();

        builder.Services.AddProblemDetails();
        builder.AddClientRateLimiting();
        builder.AddOperatorAuthentication();
        builder.AddJobsUi();
        builder.AddHttpHardening();
        builder.Services.AddExceptionHandler<InfrastructureExceptionHandler>();
        builder.Services.AddOpenApi();

        return builder;
    }
}
