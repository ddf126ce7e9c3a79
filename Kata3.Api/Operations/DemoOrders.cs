namespace Kata3.Api.Operations;

/// <summary>Demo orders for a new user to watch (the dashboard's "Enqueue demo orders"). (Contract stub.)</summary>
internal sealed class DemoOrders
{
    public const int MaxCount = 1000;

    /// <summary>Accepts <paramref name="count"/> orders through the normal intake; returns their ids.</summary>
    public Task<IReadOnlyList<Guid>> EnqueueAsync(int count, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
