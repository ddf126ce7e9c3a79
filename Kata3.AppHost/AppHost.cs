using Kata3;
using Kata3.AppHost;
using Kata3.AppHost.Infrastructure;
using Kata3.Contracts;

var builder = DistributedApplication.CreateBuilder(args);
var settings = Kata3Settings.From(builder.Configuration);

// Redis and PostgreSQL: containers where a runtime can run them, local processes otherwise.
var infra = builder.AddKata3Infrastructure();

// The operators' key: generated on first run and kept in the AppHost's user secrets (the
// dashboard's Parameters tab shows it); a deployment sets Parameters:operator-key instead.
var operatorKey = builder.AddParameter(OperatorAccess.KeyParameter,
    new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

var api = builder.AddProject<Projects.Kata3_Api>(ResourceNames.Api)
    .WithKata3Infrastructure(infra, ownsSchema: true) // the API migrates the schema as its owner
    .WithSettingsFrom(builder.Configuration, "Kata3:Api")
    .WithEnvironment(OperatorAccess.KeySetting.Replace(":", "__"), operatorKey)
    .WithFailureSimulation(settings.FailureSimulation)
    .WithTraceSampling(settings.TraceSampling)
    .WithHttpHealthCheck(ServiceDefaultsExtensions.HealthEndpointPath)
    .WithJobsUiDashboardLink(builder.Configuration);

// The queue on the dashboard: live counts, pause, resume, requeue, purge and demo orders.
builder.AddJobsResource(api, operatorKey);

builder.AddProject<Projects.Kata3_Worker>(ResourceNames.Worker)
    .WithKata3Infrastructure(infra) // alongside the API: a replica waits for the schema itself
    .WithSettingsFrom(builder.Configuration, "Kata3:Worker", targetPrefix: "Worker:")
    .WithFailureSimulation(settings.FailureSimulation)
    .WithTraceSampling(settings.TraceSampling)
    .WithReplicas(settings.Workers)
    .WithHttpHealthCheck(ServiceDefaultsExtensions.HealthEndpointPath);

// On shutdown the services stop (finishing or handing back their jobs) before Redis and PostgreSQL.
builder.StopServicesFirst();

builder.Build().Run();
