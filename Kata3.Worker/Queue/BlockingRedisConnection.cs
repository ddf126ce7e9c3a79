using Kata3.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// A Redis connection used only for the blocking wait. On the shared multiplexer every other
/// command (health PINGs included) would queue behind a BLPOP for up to FetchTimeout.
/// </summary>
internal sealed class BlockingRedisConnection(IConfiguration configuration, IOptions<WorkerOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private ConnectionMultiplexer? _connection;

    public async Task<IDatabase> GetDatabaseAsync()
    {
        if (_connection is { } existing)
        {
            return existing.GetDatabase();
        }

        await _connectLock.WaitAsync();
        try
        {
            if (_connection is null)
            {
                var config = ConfigurationOptions.Parse(configuration.GetConnectionString(ResourceNames.Redis)
                    ?? throw new InvalidOperationException($"Connection string '{ResourceNames.Redis}' is missing."));
                config.AbortOnConnectFail = false;
                config.ClientName = "kata3-worker-fetch";
                StoreClients.ConfigureRedis(config);
                // The client must outwait the server-side block, or a timed-out BLPOP stays registered
                // on the server and silently swallows the next wake-up (with BLMOVE, the next job).
                var clientTimeout = (int)(options.Value.FetchTimeout + TimeSpan.FromSeconds(10)).TotalMilliseconds;
                config.AsyncTimeout = clientTimeout;
                config.SyncTimeout = clientTimeout;
                _connection = await ConnectionMultiplexer.ConnectAsync(config);
            }
            return _connection.GetDatabase();
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync();
            await _connection.DisposeAsync();
        }
        _connectLock.Dispose();
    }
}
