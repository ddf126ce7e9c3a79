using Kata3.Api.Data;
using Kata3.Contracts;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Api.Operations;

/// <summary>
/// Cancels an order's job (<see cref="CancelStore"/>). One that has not started is cancelled at
/// once; its entry left in Redis is dropped by the worker whose claim finds it cancelled. A
/// running one is marked cancel-requested and its replica is told over pub/sub; that replica's
/// lease renewal notices the mark too, should the message be lost.
/// </summary>
internal sealed class OrderCancellation(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, ILogger<OrderCancellation> logger)
{
    private readonly CancelStore _store = new(dataSource);

    public async Task<CancelOutcome> CancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var outcome = await _store.CancelAsync(orderId, cancellationToken);
        if (outcome.Result == CancelResult.Cancelling)
        {
            await TellReplicasAsync(outcome.JobId);
        }
        return outcome;
    }

    // Best effort: the request is committed, and the holding replica's next lease renewal finds it
    // anyway; the message only makes the stop immediate.
    private async Task TellReplicasAsync(Guid jobId)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(QueueKeys.CancelChannel), jobId.ToString());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not announce the cancel of job {JobId} ({Error}); its replica's lease renewal will find it",
                jobId, ex.Message);
        }
    }
}
