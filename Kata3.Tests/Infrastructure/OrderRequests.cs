using System.Net;
using System.Net.Http.Json;

namespace Kata3.Tests.Infrastructure;

/// <summary>The HTTP calls of the delivery-guarantee tests: orders with their headers (idempotency, simulated failures), and the job listings and retries they lead to.</summary>
public static class OrderRequests
{
    /// <summary>No single call may hang a test: an outage must show up as an answer, not as a stuck request.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static async Task<HttpResponseMessage> SendOrderAsync(this Kata3App app, object body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var timeout = new CancellationTokenSource(RequestTimeout);
        var response = await app.Api.SendAsync(request, timeout.Token);
        // Buffer the body so that it can still be read after the timeout source is gone.
        await response.Content.LoadIntoBufferAsync(timeout.Token);
        return response;
    }

    /// <summary>Posts an order that must be accepted, and returns the 202's body.</summary>
    public static async Task<OrderAcceptedBody> PostAcceptedOrderAsync(this Kata3App app, object body, params (string Name, string Value)[] headers)
    {
        using var response = await app.SendOrderAsync(body, headers);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /orders answered {(int)response.StatusCode}: {text}");
        return (await response.Content.ReadFromJsonAsync<OrderAcceptedBody>())!;
    }

    public static object Order(string product, int quantity = 1, decimal price = 9.99m) => new { product, quantity, price };

    /// <summary>One page of GET /jobs; <paramref name="after"/> is the previous page's <c>next</c>.</summary>
    public static async Task<JobsPageBody> GetJobsAsync(this Kata3App app, string status, int limit, string? after = null)
    {
        using var timeout = new CancellationTokenSource(RequestTimeout);
        var query = $"/jobs?status={status}&limit={limit}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
        return (await app.Api.GetFromJsonAsync<JobsPageBody>(query, timeout.Token))!;
    }

    /// <summary>Pages through GET /jobs?status=… until the job shows up; null when it is on no page.</summary>
    public static async Task<JobSummaryBody?> FindJobAsync(this Kata3App app, string status, Guid jobId)
    {
        string? after = null;
        do
        {
            var body = await app.GetJobsAsync(status, limit: 50, after);
            if (body.Items.FirstOrDefault(j => j.JobId == jobId) is { } found)
            {
                return found;
            }
            after = body.Next;
        }
        while (after is not null);
        return null;
    }

    public static async Task<HttpResponseMessage> PostAsync(this Kata3App app, string path)
    {
        using var timeout = new CancellationTokenSource(RequestTimeout);
        return await app.Api.PostAsync(path, content: null, timeout.Token);
    }

    /// <summary>One line per attempt, for assertion messages.</summary>
    public static string Describe(this OrderBody order) =>
        $"order {order.OrderId} {order.Status}, job {order.Job?.Status} attempts {order.Job?.Attempts}: "
        + string.Join("; ", (order.Job?.OrderedHistory ?? []).Select(a =>
            $"#{a.Attempt} {a.WorkerId} {a.StartedAt:HH:mm:ss.fff}-{a.FinishedAt:HH:mm:ss.fff} {a.Outcome ?? "(running)"} {a.Error}"));
}

public sealed record JobsPageBody(IReadOnlyList<JobSummaryBody> Items, string? Next);

public sealed record JobSummaryBody(Guid JobId, Guid OrderId, string Status, int Attempts, string? Error, DateTimeOffset UpdatedAt);
