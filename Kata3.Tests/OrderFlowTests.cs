using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests;

/// <summary>The order flow on one worker replica: accept, process, report; and what is refused.</summary>
[Collection(OneWorkerCollection.Name)]
public sealed class OrderFlowTests(OneWorkerApp app)
{
    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PostedOrderIsAcceptedAtOnceAndCompletedInTheBackground()
    {
        var response = await app.Api.PostAsJsonAsync("/orders", new { product = "Widget", quantity = 3, price = 19.99m });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!;
        Assert.Equal("pending", accepted.Status);
        Assert.False(string.IsNullOrWhiteSpace(accepted.Message));
        Assert.NotEqual(Guid.Empty, accepted.JobId);
        Assert.Equal($"/orders/{accepted.OrderId}", response.Headers.Location?.OriginalString);

        var order = await app.WaitForOrderAsync(accepted.OrderId, CompletionTimeout, "completed");

        Assert.Equal(("Widget", 3, 19.99m), (order.Product, order.Quantity, order.Price));
        var job = Assert.IsType<JobBody>(order.Job);
        Assert.Equal(accepted.JobId, job.JobId);
        Assert.Equal("completed", job.Status);
        Assert.Equal(1, job.Attempts);
        Assert.Null(job.Error);
        Assert.StartsWith($"{ResourceNames.Worker}-", job.WorkerId);
        Assert.True(job.EnqueuedAt <= job.StartedAt, $"enqueued {job.EnqueuedAt:O} after started {job.StartedAt:O}");
        Assert.True(job.StartedAt < job.CompletedAt, $"started {job.StartedAt:O} not before completed {job.CompletedAt:O}");
        Assert.Equal(job.CompletedAt, order.CompletedAt);
        Assert.True(order.CreatedAt <= job.EnqueuedAt);
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "empty product", """{"product":"","quantity":1,"price":1}""", "product" },
        { "blank product", """{"product":"   ","quantity":1,"price":1}""", "product" },
        { "missing product", """{"quantity":1,"price":1}""", "product" },
        { "over-long product", $$"""{"product":"{{new string('x', 201)}}","quantity":1,"price":1}""", "product" },
        { "product of the wrong type", """{"product":5,"quantity":1,"price":1}""", "product" },
        { "zero quantity", """{"product":"x","quantity":0,"price":1}""", "quantity" },
        { "negative quantity", """{"product":"x","quantity":-2,"price":1}""", "quantity" },
        { "missing quantity", """{"product":"x","price":1}""", "quantity" },
        { "fractional quantity", """{"product":"x","quantity":1.5,"price":1}""", "quantity" },
        { "quantity as a string", """{"product":"x","quantity":"five","price":1}""", "quantity" },
        { "zero price", """{"product":"x","quantity":1,"price":0}""", "price" },
        { "negative price", """{"product":"x","quantity":1,"price":-1}""", "price" },
        { "absurd price", """{"product":"x","quantity":1,"price":1000000000}""", "price" },
        { "price with fractions of a cent", """{"product":"x","quantity":1,"price":1.001}""", "price" },
        { "price as a string", """{"product":"x","quantity":1,"price":"1.00"}""", "price" },
        { "malformed JSON", """{"product":"x","quantity":1,""", "body" },
        { "not an object", """[1,2,3]""", "body" },
        { "null", "null", "body" },
        { "oversized body", $$"""{"product":"x","quantity":1,"price":1,"note":"{{new string('x', 20_000)}}"}""", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadInputIsRefusedWithProblemDetailsNamingTheFieldAndWritesNothing(string why, string body, string field)
    {
        var (orders, jobs) = (await app.CountRowsAsync("orders"), await app.CountRowsAsync("jobs"));

        var response = await app.Api.PostAsync("/orders", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{why}: got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _),
            $"{why}: no error for '{field}' in {problem.RootElement}");
        Assert.Equal((orders, jobs), (await app.CountRowsAsync("orders"), await app.CountRowsAsync("jobs")));
    }

    [Fact]
    public async Task BodyThatIsNotJsonIsRefusedAsUnsupportedMediaType()
    {
        var (orders, jobs) = (await app.CountRowsAsync("orders"), await app.CountRowsAsync("jobs"));

        var response = await app.Api.PostAsync("/orders", new StringContent("product=x", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((orders, jobs), (await app.CountRowsAsync("orders"), await app.CountRowsAsync("jobs")));
    }

    [Fact]
    public async Task UnknownOrderIsNotFoundAsProblemDetails()
    {
        var response = await app.Api.GetAsync($"/orders/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheOrderEndpoints()
    {
        using var document = JsonDocument.Parse(await app.Api.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/orders", out var orders) && orders.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/orders/{orderId}", out var order) && order.TryGetProperty("get", out _));
    }

    [Fact]
    public async Task OneReplicaProcessesOrdersInTheOrderTheyWereAccepted()
    {
        var accepted = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            accepted.Add((await app.PostOrderAsync($"fifo-{i}")).OrderId);
        }

        var orders = new List<OrderBody>();
        foreach (var id in accepted)
        {
            orders.Add(await app.WaitForOrderAsync(id, CompletionTimeout, "completed"));
        }

        var byStart = orders.OrderBy(o => o.Job!.StartedAt).Select(o => o.OrderId);
        Assert.Equal(accepted, byStart);
    }

    [Fact]
    public async Task WorkerProcessingIsInTheSameTraceAsThePostThatCreatedTheJob()
    {
        var accepted = await app.PostOrderAsync("traced");
        Assert.Matches("^[0-9a-f]{32}$", accepted.TraceId);

        var order = await app.WaitForOrderAsync(accepted.OrderId, CompletionTimeout, "completed");

        // The worker's own console log, read through the AppHost: its completion line carries the
        // trace id of the activity it was processing under.
        string? completedLine = null;
        await Eventually.Async(async () =>
        {
            var logs = await app.GetLogsAsync(order.Job!.WorkerId!, CancellationToken.None);
            completedLine = logs.FirstOrDefault(l => l.Contains($"Completed job {accepted.JobId}"));
            return completedLine is not null;
        }, TimeSpan.FromSeconds(20), () => $"no completion log line for job {accepted.JobId} from {order.Job!.WorkerId}");

        Assert.Contains($"TraceId:{accepted.TraceId}", completedLine);
    }
}
