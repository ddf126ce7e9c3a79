namespace Kata3.AppHost.Infrastructure;

internal static class RedisMemoryLimit
{
    /// <summary>
    /// Gives Aspire's Redis container the same memory limit as the local server, with noeviction.
    /// AddRedis starts it as <c>/bin/sh -c "redis-server --requirepass ..."</c>: further arguments
    /// would go to the shell, not to Redis, so the options are appended to that one command line.
    /// </summary>
    public static IResourceBuilder<RedisResource> WithMaxMemory(this IResourceBuilder<RedisResource> redis, string maxMemory) =>
        redis.WithArgs(context =>
        {
            var last = context.Args.Count - 1;
            if (last < 0 || context.Args[last] is not string command || !command.StartsWith("redis-server", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    "Aspire's Redis container no longer starts as `/bin/sh -c \"redis-server ...\"`; its memory limit cannot be set.");
            }
            context.Args[last] = $"{command} --maxmemory {maxMemory} --maxmemory-policy noeviction";
        });
}
