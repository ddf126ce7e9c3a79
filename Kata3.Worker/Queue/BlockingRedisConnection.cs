using Kata3.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kata3.Worker.Queue;

/// <summary>
/// A Redis connection used only for the blocking wait. On the shared multiplexer every other
/// command (health PINGs included) would queue behind a BLPOP for up to FetchTimeout. A stopping
/// replica closes it (<see cref="Interrupt"/>) rather than wait out the block.
/// </summary>
internal sealed class BlockingRedisConnection(IConfiguration configuration, IOptions<WorkerOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private ConnectionMultiplexer? _connection;
    private volatile bool _interrupted;

    public async Task<IDatabase> GetDatabaseAsync()
    {
        ObjectDisposedException.ThrowIf(_interrupted, this);
        if (_connection is { } existing)
        {
            return existing.GetDatabase();
        }

        await _connectLock.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_interrupted, this);
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
                if (_interrupted)
                {
                    _connection.Close(allowCommandsToComplete: false);
                }
            }
            return _connection.GetDatabase();
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>
    /// Ends a wait in progress at once by dropping the connection; later waits fail. Redis runs
    /// nothing a blocked client sent after its BLPOP, so a dropped wait took nothing; a take whose
    /// reply is lost is handed back at sign-off, like any entry left in hand.
    /// </summary>
    public void Interrupt()
    {
        _interrupted = true;
        _connection?.Close(allowCommandsToComplete: false);
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
