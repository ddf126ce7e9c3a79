using Kata3.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Kata3;

/// <summary>
/// The PostgreSQL and Redis clients of the API and the worker, registered the same way in both.
/// </summary>
public static class StoreClients
{
    /// <summary>
    /// The service key of a second NpgsqlDataSource for the few batched statements every order
    /// runs (the API's insert, the worker's claim and completion): their plans are made once per
    /// connection instead of at every run, and pinned to primary-key lookups. Statements run on it
    /// must reach every table through an index; everything else uses the default data source.
    /// </summary>
    public const string HotPath = "kata3db-hot-path";

    /// <summary>
    /// Adds the NpgsqlDataSource (and the <see cref="HotPath"/> one) and the Redis multiplexer.
    /// Writes are batched (group commit), so a few connections carry any load;
    /// <paramref name="maxDatabaseConnections"/> caps the default pool (the hot path has its own 4),
    /// and a caller beyond it waits for a connection instead of failing.
    /// </summary>
    public static TBuilder AddStoreClients<TBuilder>(this TBuilder builder, int maxDatabaseConnections)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: dataSource =>
        {
            ConfigureConnections(dataSource.ConnectionStringBuilder);
            dataSource.ConnectionStringBuilder.MaxPoolSize = maxDatabaseConnections;
            // Plan each run for its own batch and the tables as they are now: a generic plan cached
            // while the tables were small (just after start) would go on scanning them once they have grown.
            dataSource.ConnectionStringBuilder.Options = "-c plan_cache_mode=force_custom_plan";
        });
        builder.Services.AddKeyedSingleton(HotPath, (services, _) =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(builder.Configuration.GetConnectionString(ResourceNames.Database));
            dataSource.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
            ConfigureConnections(dataSource.ConnectionStringBuilder);
            // One connection per group-commit writer: the API's two insert writers, a replica's
            // claim and completion writers.
            dataSource.ConnectionStringBuilder.MaxPoolSize = 4;
            // One generic plan per connection: planning these statements costs more than running them.
            // With scans and hash and merge joins off, a plan made on empty tables still fits full ones.
            dataSource.ConnectionStringBuilder.Options =
                "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off";
            return dataSource.Build();
        });
        builder.Services.AddSingleton<DatabasePools>();
        // No span per Redis command: that instrumentation holds every command of every activity,
        // sampled or not, until it decides. The push has its own span (ReadyQueue).
        builder.AddRedisClient(ResourceNames.Redis, settings => settings.DisableTracing = true, configureOptions: ConfigureRedis);
        return builder;
    }

    private static void ConfigureConnections(NpgsqlConnectionStringBuilder connection)
    {
        // The same few statements run thousands of times a second: prepare them once per
        // connection instead of having PostgreSQL parse them every time.
        connection.MaxAutoPrepare = 10;
        // No session state is ever set, so returning a connection to the pool needs no reset
        // statements (four per checkout otherwise).
        connection.NoResetOnClose = true;
    }

    /// <summary>
    /// For every Redis connection: the .NET thread pool, not StackExchange.Redis's own dedicated
    /// threads, which spin and yield while waiting for socket work.
    /// </summary>
    public static void ConfigureRedis(ConfigurationOptions options) => options.SocketManager = SocketManager.ThreadPool;
}
