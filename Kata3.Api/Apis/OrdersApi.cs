using System.Diagnostics;
using Kata3.Api.Data;
using Kata3.Api.Intake;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Kata3.Api.Apis;

internal static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/orders").WithTags("Orders")
            .RequireRateLimiting(ClientRateLimiting.PolicyName);

        api.MapPost("/", CreateOrderAsync)
            .Accepts<CreateOrderRequest>("application/json")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/{orderId:guid}", GetOrderAsync)
            .WithName("GetOrder");

        return app;
    }

    public static async Task<Results<Accepted<OrderAccepted>, ValidationProblem, ProblemHttpResult>> CreateOrderAsync(
        HttpRequest request, [AsParameters] OrderServices services, CancellationToken cancellationToken)
    {
        var (order, errors) = await OrderRequestReader.ReadAsync(request, cancellationToken);
        // The simulation header is an operator's tool: from anyone else it is ignored, not refused.
        var simulation = services.Simulation.Value.Enabled && request.HttpContext.IsOperator();
        var (idempotencyKey, simulateFailures) = OrderRequestReader.ReadHeaders(request, simulation, errors);
        if (order is null || errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The order is not valid.");
        }

        var activity = Activity.Current;
        var create = new OrderToCreate(
            OrderId: Guid.CreateVersion7(),
            JobId: Guid.CreateVersion7(),
            Order: order,
            IdempotencyKey: idempotencyKey,
            RequestHash: idempotencyKey is null ? null : OrderRequestReader.Hash(order, simulateFailures),
            SimulateFailures: simulateFailures,
            TraceParent: activity?.Id,
            TraceState: activity?.TraceStateString);

        switch (await services.Intake.AcceptAsync(create, cancellationToken))
        {
            case IntakeResult.Existing { Order: var existing } when existing.RequestHash != create.RequestHash:
                return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: $"{OrderHeaders.IdempotencyKey} reused with a different request",
                    detail: $"The key '{idempotencyKey}' was first used for order {existing.OrderId} with another body.");

            case IntakeResult.Existing { Order: var existing }:
                request.HttpContext.Response.Headers[OrderHeaders.IdempotentReplayed] = "true";
                return Accepted(existing.OrderId, existing.JobId, $"Order already accepted under this {OrderHeaders.IdempotencyKey}.",
                    existing.Status, activity);

            case IntakeResult.Created { ScheduledFor: { } runAt }:
                services.Logger.LogDebug("Accepted order {OrderId} as job {JobId}, scheduled for {RunAt}", create.OrderId, create.JobId, runAt);
                return Accepted(create.OrderId, create.JobId,
                    $"Order scheduled; it will be processed from {runAt.UtcDateTime:O}.", OrderStatus.Scheduled, activity);

            case IntakeResult.Created created:
                // The order is durable; a job Redis did not take is delivered by the sweeper.
                await created.Pushed;
                services.Logger.LogDebug("Accepted order {OrderId} as job {JobId}", create.OrderId, create.JobId);
                return Accepted(create.OrderId, create.JobId, "Order accepted; it will be processed in the background.",
                    OrderStatus.Pending, activity);

            default:
                throw new UnreachableException();
        }
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

    private static Accepted<OrderAccepted> Accepted(Guid orderId, Guid jobId, string message, string status, Activity? activity) =>
        TypedResults.Accepted($"/orders/{orderId}",
            new OrderAccepted(message, orderId, jobId, status, activity?.TraceId.ToString()));
}

internal sealed record OrderServices(
    OrderIntake Intake,
    OrderStore Orders,
    IOptions<FailureSimulationOptions> Simulation,
    ILogger<OrderServices> Logger);
