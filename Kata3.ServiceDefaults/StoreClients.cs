using Kata3.Contracts;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The PostgreSQL and Redis clients of the API and the worker, registered the same way in both.
/// </summary>
public static class StoreClients
{
    /// <summary>
    /// Adds the NpgsqlDataSource and the Redis multiplexer. Writes are batched (group commit), so
    /// a few connections carry any load: <paramref name="maxDatabaseConnections"/> keeps the API
    /// and every worker replica together under PostgreSQL's 100 connections, and a caller beyond
    /// it waits for a connection instead of failing.
    /// </summary>
    public static TBuilder AddStoreClients<TBuilder>(this TBuilder builder, int maxDatabaseConnections)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: dataSource =>
        {
            dataSource.ConnectionStringBuilder.MaxPoolSize = maxDatabaseConnections;
            // The same few statements run thousands of times a second: prepare them once per
            // connection instead of having PostgreSQL parse and plan them every time.
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 10;
            // ...but plan each run for its own batch and the tables as they are now: a generic plan
            // cached while the tables were small (just after start) kept scanning all of jobs per
            // batch once a burst had filled it (a claim took up to 4.7 s in bench/drain).
            dataSource.ConnectionStringBuilder.Options = "-c plan_cache_mode=force_custom_plan";
            // No session state is ever set, so returning a connection to the pool needs no reset
            // statements (four per checkout otherwise).
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
        });
        // No span per Redis command: that instrumentation keeps every command of every activity,
        // sampled or not, for ten seconds before it decides (the API's live heap grew to 89 MB at
        // 3,000 orders/s). The push, the Redis step of an order's trace, has its own span (ReadyQueue).
        builder.AddRedisClient(ResourceNames.Redis, settings => settings.DisableTracing = true, configureOptions: ConfigureRedis);
        return builder;
    }

    /// <summary>
    /// For every Redis connection: the .NET thread pool, not StackExchange.Redis's own dedicated
    /// threads, which spin and yield while waiting for socket work (half of a worker's CPU at 500
    /// jobs/s).
    /// </summary>
    public static void ConfigureRedis(ConfigurationOptions options) => options.SocketManager = SocketManager.ThreadPool;
}
