namespace Kata3.Api.Operations;

/// <summary>Cancelling an order's job. (Contract stub: issue 17 fills it in.)</summary>
internal sealed class OrderCancellation
{
    public Task<CancelOutcome> CancelAsync(Guid orderId, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
