using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Api.Queue;

/// <summary>Puts jobs on the Redis ready queue.</summary>
internal sealed class JobPublisher(IConnectionMultiplexer redis, ILogger<JobPublisher> logger)
{
    /// <summary>
    /// Pushes the job; false when Redis could not take it. The job row is already committed as
    /// queued, so a failed push leaves the order durable rather than lost.
    /// </summary>
    public async Task<bool> PublishAsync(JobMessage message)
    {
        try
        {
            await redis.GetDatabase().ListLeftPushAsync(QueueKeys.Ready, message.Serialize());
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Job {JobId} for order {OrderId} is stored but could not be pushed to Redis",
                message.JobId, message.OrderId);
            return false;
        }
    }
}
