using Kata3;
using Kata3.Api;
using Kata3.Api.Apis;
using Kata3.Api.JobsUi;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseHttpHardening();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();
app.WarnIfNoOperatorKey();

app.MapDefaultEndpoints();
app.MapOpenApiWhereEnabled();
app.MapOrdersApi();
app.MapJobsApi();
app.MapOperationsApi();
app.MapJobsUi();

app.Run();
