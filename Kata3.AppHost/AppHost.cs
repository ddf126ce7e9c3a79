using Kata3.AppHost;
using Kata3.AppHost.Infrastructure;
using Kata3.Contracts;

var builder = DistributedApplication.CreateBuilder(args);
var settings = Kata3Settings.From(builder.Configuration);

// Redis and PostgreSQL: containers where a runtime can run them, local processes otherwise.
var infra = builder.AddKata3Infrastructure();

var api = builder.AddProject<Projects.Kata3_Api>(ResourceNames.Api)
    .WithReference(infra.Redis).WaitFor(infra.Redis)
    .WithReference(infra.Database).WaitFor(infra.Database)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Kata3_Worker>(ResourceNames.Worker)
    .WithReference(infra.Redis).WaitFor(infra.Redis)
    .WithReference(infra.Database).WaitFor(infra.Database)
    .WaitFor(api) // the API owns the schema: workers start once it is migrated
    .WithEnvironment("Worker__JobDuration", settings.JobDuration.ToString("c"))
    .WithReplicas(settings.Workers)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
