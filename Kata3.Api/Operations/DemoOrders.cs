using System.Diagnostics;
using Kata3.Api.Apis;
using Kata3.Api.Data;
using Kata3.Api.Intake;
using Kata3.Contracts;

namespace Kata3.Api.Operations;

/// <summary>
/// Demo orders for a new user to watch (the dashboard's "Enqueue demo orders"): accepted through the
/// normal intake, each in a trace of its own, as if a client had posted it.
/// </summary>
internal sealed class DemoOrders(OrderIntake intake)
{
    public const int MaxCount = 1000;
    private static readonly string[] Products = ["keyboard", "monitor", "laptop stand", "headset", "webcam", "desk lamp"];

    /// <summary>Accepts <paramref name="count"/> orders through the normal intake; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> EnqueueAsync(int count, CancellationToken cancellationToken)
    {
        var orders = Enumerable.Range(0, count).Select(i => AcceptOneAsync(i, cancellationToken)).ToList();
        return await Task.WhenAll(orders);
    }

    private async Task<Guid> AcceptOneAsync(int index, CancellationToken cancellationToken)
    {
        // A root span per order, so each demo order is a trace of its own rather than one
        // trace holding the whole click.
        var caller = Activity.Current;
        Activity.Current = null;
        using var activity = Kata3Telemetry.ActivitySource.StartActivity("demo order", ActivityKind.Producer);
        Activity.Current = caller;
        var order = new NewOrder(
            Products[index % Products.Length],
            Quantity: 1 + Random.Shared.Next(5),
            Price: 5m + Random.Shared.Next(1, 20_000) / 100m,
            Priority: index % 10 == 0 ? JobPriority.High : index % 10 == 9 ? JobPriority.Low : JobPriority.Normal);
        var create = new OrderToCreate(Guid.CreateVersion7(), Guid.CreateVersion7(), order,
            IdempotencyKey: null, RequestHash: null, SimulateFailures: 0, activity?.Id, activity?.TraceStateString);
        activity?.SetTag("kata3.order_id", create.OrderId);
        var created = (IntakeResult.Created)await intake.AcceptAsync(create, cancellationToken);
        await created.Pushed;
        return create.OrderId;
    }
}
