namespace Kata3.AppHost.Infrastructure;

internal static class RedisMemoryLimit
{
    /// <summary>
    /// Gives Aspire's Redis container the same memory limit as the local server, with noeviction.
    /// AddRedis runs <c>/bin/sh -c "redis-server --requirepass $REDIS_PASSWORD ..."</c>: when
    /// running, its arguments are still separate and the orchestrator joins them into that one
    /// command line, so ours are added after them; when publishing they are already joined, so
    /// ours go at the end of the command line (after it, they would reach the shell, not Redis).
    /// </summary>
    public static IResourceBuilder<RedisResource> WithMaxMemory(this IResourceBuilder<RedisResource> redis, string maxMemory) =>
        redis.WithArgs(context =>
        {
            string[] limit = ["--maxmemory", maxMemory, "--maxmemory-policy", "noeviction"];
            var last = context.Args.Count - 1;
            if (last >= 0 && context.Args[last] is string joined && joined.StartsWith("redis-server ", StringComparison.Ordinal))
            {
                context.Args[last] = $"{joined} {string.Join(' ', limit)}";
            }
            else if (context.Args.Contains("redis-server"))
            {
                foreach (var arg in limit)
                {
                    context.Args.Add(arg);
                }
            }
            else
            {
                throw new InvalidOperationException(
                    "Aspire's Redis container no longer runs `redis-server` with arguments; its memory limit cannot be set.");
            }
        });
}
