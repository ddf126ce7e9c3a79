using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Stops a running job the moment an operator cancels it: the API publishes the job's id on
/// QueueKeys.CancelChannel, and the replica holding it cancels that attempt's work (the others
/// ignore it). Subscribed on the shared multiplexer, whose pub/sub connection is its own; the
/// blocking fetch never delays it. A message missed (Redis away, reconnecting) costs only time:
/// the lease renewal finds the request in PostgreSQL.
/// </summary>
internal sealed class CancelListener(IConnectionMultiplexer redis, InHandJobs inHand, ILogger<CancelListener> logger) : BackgroundService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal(QueueKeys.CancelChannel);

    // Until the first subscribe succeeds; after that the multiplexer re-subscribes by itself on every reconnect.
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(Channel, OnCancel);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                var pause = backoff.Next();
                logger.LogWarning("Could not subscribe to cancel requests ({Error}); trying again in {Pause}", ex.Message, pause);
                try
                {
                    await Task.Delay(pause, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(Channel, OnCancel);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is gone: so is the subscription.
        }
    }

    private void OnCancel(RedisChannel channel, RedisValue message)
    {
        if (Guid.TryParse((string?)message, out var jobId) && inHand.Cancel(jobId))
        {
            logger.LogInformation("Stopping job {JobId}: an operator cancelled it", jobId);
        }
    }
}
