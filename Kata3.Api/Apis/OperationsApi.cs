using System.Globalization;
using Kata3.Api.Operations;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kata3.Api.Apis;

/// <summary>
/// Operating the queue: its live state, pause and resume, purging poison, demo orders and
/// cancelling an order. Operators only; the dashboard's jobs resource and the jobs UI use the same services.
/// </summary>
internal static class OperationsApi
{
    public const int DefaultThroughputMinutes = 10;
    public const int MaxThroughputMinutes = 60;
    public const int DefaultDemoCount = 10;

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapOperatorGroup("/jobs", "Operations");
        jobs.MapGet("/stats", async (QueueStatsReader stats, CancellationToken cancellationToken) =>
            TypedResults.Ok(await stats.ReadAsync(cancellationToken)));
        jobs.MapGet("/throughput", ReadThroughputAsync);
        jobs.MapPost("/pause", PauseAsync);
        jobs.MapPost("/resume", ResumeAsync);
        jobs.MapDelete("/poison", async (QueueControl control) =>
            TypedResults.Ok(new PoisonPurged(await control.PurgePoisonAsync())));
        jobs.MapPost("/demo", EnqueueDemoOrdersAsync);

        // Who may cancel: operators. A customer-facing cancel would need to know whose order it is.
        app.MapOperatorGroup("/orders", "Operations").MapPost("/{orderId:guid}/cancel", CancelOrderAsync);

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<ThroughputMinute>>, ValidationProblem>> ReadThroughputAsync(
        QueueStatsReader stats, CancellationToken cancellationToken, string? minutes = null)
    {
        if (!TryReadCount(minutes, DefaultThroughputMinutes, MaxThroughputMinutes, out var count))
        {
            return Invalid("minutes", MaxThroughputMinutes);
        }
        return TypedResults.Ok(await stats.ReadThroughputAsync(count, cancellationToken));
    }

    public static async Task<Results<Ok<QueuePaused>, ValidationProblem>> PauseAsync(
        QueueControl control, CancellationToken cancellationToken, string? priority = null)
    {
        if (priority is not null && !JobPriority.All.Contains(priority))
        {
            return InvalidPriority();
        }
        return TypedResults.Ok(new QueuePaused(await control.PauseAsync(priority, cancellationToken)));
    }

    public static async Task<Results<Ok<QueuePaused>, ValidationProblem>> ResumeAsync(
        QueueControl control, CancellationToken cancellationToken, string? priority = null)
    {
        if (priority is not null && !JobPriority.All.Contains(priority))
        {
            return InvalidPriority();
        }
        return TypedResults.Ok(new QueuePaused(await control.ResumeAsync(priority, cancellationToken)));
    }

    public static async Task<Results<Accepted<DemoOrdersEnqueued>, ValidationProblem>> EnqueueDemoOrdersAsync(
        DemoOrders demo, CancellationToken cancellationToken, string? count = null)
    {
        if (!TryReadCount(count, DefaultDemoCount, DemoOrders.MaxCount, out var n))
        {
            return Invalid("count", DemoOrders.MaxCount);
        }
        var orderIds = await demo.EnqueueAsync(n, cancellationToken);
        return TypedResults.Accepted((string?)null, new DemoOrdersEnqueued(orderIds.Count, orderIds));
    }

    public static async Task<Results<Ok<OrderCancelled>, Accepted<OrderCancelled>, ProblemHttpResult>> CancelOrderAsync(
        Guid orderId, OrderCancellation cancellation, CancellationToken cancellationToken)
    {
        var outcome = await cancellation.CancelAsync(orderId, cancellationToken);
        var body = new OrderCancelled(orderId, outcome.JobId, outcome.JobStatus ?? JobStatus.Cancelled);
        return outcome.Result switch
        {
            CancelResult.Cancelled => TypedResults.Ok(body),
            CancelResult.Cancelling => TypedResults.Accepted($"/orders/{orderId}", body with { Status = "cancelling" }),
            CancelResult.Finished => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Order already finished",
                detail: $"Order {orderId}'s job is {outcome.JobStatus}; only a job that has not finished can be cancelled."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found",
                detail: $"There is no order with id {orderId}."),
        };
    }

    private static bool TryReadCount(string? text, int fallback, int max, out int value)
    {
        value = fallback;
        return text is null
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value is >= 1 && value <= max);
    }

    private static ValidationProblem Invalid(string name, int max) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [name] = [$"'{name}' must be a whole number from 1 to {max}."] });

    private static ValidationProblem InvalidPriority() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["priority"] = [$"'priority' must be one of {string.Join(", ", JobPriority.All)}, or absent for every priority."],
        });
}
