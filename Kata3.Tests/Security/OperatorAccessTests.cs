using System.Net;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Security;

/// <summary>
/// Every route that reads other people's data or changes the queue needs the operator key; the
/// order routes and health stay public. (The dashboard's command sending the key is
/// DeadJobTests.DashboardCommandRequeuesDeadJobs: its route refuses anyone without it.)
/// </summary>
[Collection(OneWorkerCollection.Name)]
public sealed class OperatorAccessTests(OneWorkerApp app)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AnonymousAndWrongKeyCallsToEveryOperatorRouteAre401AndChangeNothing()
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("operator-dead"), (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));
        var dead = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        Assert.True(dead.Job!.Status == "dead", dead.Describe());

        using var wrongKey = app.App.CreateHttpClient(ResourceNames.Api);
        wrongKey.DefaultRequestHeaders.Authorization = new(Contracts.OperatorAccess.AuthorizationScheme, new string('x', app.OperatorKey.Length));
        (HttpMethod Method, string Path)[] routes =
        [
            (HttpMethod.Get, "/jobs?status=dead"),
            (HttpMethod.Get, "/jobs?status=completed"),
            (HttpMethod.Get, "/jobs/poison"),
            (HttpMethod.Post, $"/jobs/{dead.Job.JobId}/retry"),
            (HttpMethod.Post, "/jobs/dead/retry"),
        ];
        foreach (var client in new[] { app.Anonymous, wrongKey })
        {
            foreach (var (method, path) in routes)
            {
                using var response = await client.SendAsync(new HttpRequestMessage(method, path));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode}: {body}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
            }
        }

        var after = await app.GetOrderAsync(accepted.OrderId);
        Assert.True(after.Status == "failed" && after.Job!.Status == "dead" && after.Job.Attempts == dead.Job.Attempts, after.Describe());

        // The right key works.
        using var retry = await app.Api.PostAsync($"/jobs/{dead.Job.JobId}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
    }

    [Fact]
    public async Task OrdersAndHealthStayPublic()
    {
        using var post = await app.Anonymous.PostAsync("/orders", JsonBody("""{"product":"public","quantity":1,"price":1}"""));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        using var get = await app.Anonymous.GetAsync(post.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var health = await app.Anonymous.GetAsync(ServiceDefaultsExtensions.HealthEndpointPath);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task FailureSimulationWithoutTheKeyIsIgnored()
    {
        var marker = Guid.NewGuid().ToString("N");
        foreach (var value in new[] { "permanent", "2", "not-a-number" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
            {
                Content = JsonBody($$"""{"product":"anonymous-{{value}}-{{marker}}","quantity":1,"price":1}"""),
            };
            request.Headers.TryAddWithoutValidation(FailureSimulationOptions.HeaderName, value);
            using var response = await app.Anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

            var order = await app.WaitForOrderAsync(OrderId(response), Timeout, "completed", "failed");
            Assert.True(order.Status == "completed" && order.Job!.Attempts == 1, order.Describe());
        }
    }

    private static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static Guid OrderId(HttpResponseMessage response) => Guid.Parse(response.Headers.Location!.OriginalString.Split('/')[^1]);
}
