using System.Diagnostics;
using Kata3.Api.Data;
using Kata3.Api.Queue;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kata3.Api.Apis;

internal static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/orders").WithTags("Orders");

        api.MapPost("/", CreateOrderAsync)
            .Accepts<CreateOrderRequest>("application/json")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/{orderId:guid}", GetOrderAsync)
            .WithName("GetOrder");

        return app;
    }

    public static async Task<Results<Accepted<OrderAccepted>, ValidationProblem>> CreateOrderAsync(
        HttpRequest request, [AsParameters] OrderServices services, CancellationToken cancellationToken)
    {
        var (order, errors) = await OrderRequestReader.ReadAsync(request, cancellationToken);
        if (order is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The order is not valid.");
        }

        var orderId = Guid.CreateVersion7();
        var jobId = Guid.CreateVersion7();
        var activity = Activity.Current;
        var traceParent = activity?.Id;
        var traceState = activity?.TraceStateString;

        // Durable first: once this commits the order exists, whatever happens to the push below.
        var enqueuedAt = await services.Orders.CreateAsync(orderId, jobId, order, traceParent, traceState, cancellationToken);
        await services.Publisher.PublishAsync(
            new JobMessage(JobMessage.CurrentVersion, jobId, orderId, enqueuedAt, traceParent, traceState));

        services.Logger.LogInformation("Accepted order {OrderId} as job {JobId}", orderId, jobId);
        return TypedResults.Accepted($"/orders/{orderId}", new OrderAccepted(
            "Order accepted; it will be processed in the background.", orderId, jobId, OrderStatus.Pending,
            activity?.TraceId.ToString()));
    }

    public static async Task<Results<Ok<OrderDetails>, ProblemHttpResult>> GetOrderAsync(
        Guid orderId, [AsParameters] OrderServices services, CancellationToken cancellationToken)
    {
        var order = await services.Orders.GetAsync(orderId, cancellationToken);
        return order is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found",
                detail: $"There is no order with id {orderId}.")
            : TypedResults.Ok(order);
    }
}

internal sealed record OrderServices(OrderStore Orders, JobPublisher Publisher, ILogger<OrderServices> Logger);
