using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Kata3;

/// <summary>
/// After PostgreSQL restarts, every idle connection in a pool is dead and Npgsql learns it only by
/// using each one: one failed request apiece. At the first sign both pools are emptied, and a read
/// that met a dead connection runs once more on a fresh one.
/// </summary>
public sealed class DatabasePools(NpgsqlDataSource main, [FromKeyedServices(StoreClients.HotPath)] NpgsqlDataSource hotPath)
{
    /// <summary>Empties both pools when <paramref name="exception"/> says a connection was lost.</summary>
    /// <returns>True when it did.</returns>
    public bool ClearIfConnectionLost(Exception exception)
    {
        if (!StoreFaults.IsConnectionLost(exception))
        {
            return false;
        }

        main.Clear();
        hotPath.Clear();
        return true;
    }

    /// <summary>Runs a read; if it met a lost connection, empties the pools and runs it once more.</summary>
    public async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (ClearIfConnectionLost(ex))
        {
            return await read();
        }
    }
}
