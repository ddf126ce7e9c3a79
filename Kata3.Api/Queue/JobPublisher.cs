using Kata3.Contracts;
using Kata3.Queue;
using StackExchange.Redis;

namespace Kata3.Api.Queue;

/// <summary>Puts jobs on the Redis ready queue.</summary>
internal sealed class JobPublisher(IConnectionMultiplexer redis, ILogger<JobPublisher> logger)
{
    /// <summary>
    /// Pushes the jobs, or logs why Redis could not take them. The job rows are already committed
    /// as queued, so the workers' sweeper delivers them once Redis is reachable: the order is
    /// durable either way, and a disconnected Redis does not hold up the 202.
    /// </summary>
    public Task PublishAsync(JobMessage message) => PublishAsync([message]);

    public async Task PublishAsync(IReadOnlyCollection<JobMessage> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }
        if (!redis.IsConnected)
        {
            logger.LogWarning("Redis is unreachable; {Count} job(s) (first {JobId}) will be delivered by the sweeper",
                messages.Count, messages.First().JobId);
            return;
        }

        try
        {
            await ReadyQueue.PushAsync(redis.GetDatabase(), messages);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "{Count} job(s) (first {JobId}) are stored but could not be pushed; the sweeper will deliver them",
                messages.Count, messages.First().JobId);
        }
    }
}
