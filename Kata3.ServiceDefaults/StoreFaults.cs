using Npgsql;
using StackExchange.Redis;

namespace Kata3;

/// <summary>
/// What a PostgreSQL or Redis failure means for whoever retries it: an outage (try later, the
/// statement is fine), a conflict between concurrent transactions (run the same statement again
/// now), or neither: the statement or its data is wrong, and running it again changes nothing.
/// </summary>
public static class StoreFaults
{
    /// <summary>
    /// The store is unreachable, shutting down or out of resources (SQLSTATE classes 08, 53, 57),
    /// or Redis refused or timed out. A PostgresException of any other class is the server
    /// answering: a bug or bad data, not an outage.
    /// </summary>
    public static bool IsOutage(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState[..2] is "08" or "53" or "57",
        NpgsqlException or RedisException or TimeoutException => true,
        _ => exception.InnerException is { } inner && IsOutage(inner),
    };

    /// <summary>A deadlock or serialization failure: the transaction was rolled back and may simply run again.</summary>
    public static bool IsConflict(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
        _ => exception.InnerException is { } inner && IsConflict(inner),
    };

    /// <summary>
    /// PostgreSQL refused this statement's data for good: a data exception (class 22), a broken
    /// constraint (23) or a trigger's RAISE (P0). Running it again changes nothing.
    /// </summary>
    public static bool IsRefusal(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState[..2] is "22" or "23" or "P0",
        _ => exception.InnerException is { } inner && IsRefusal(inner),
    };

    /// <summary>
    /// The connection is gone: the server terminated it (shutdown, crash) or its socket failed. After
    /// a restart every idle pooled connection is in that state, and Npgsql finds out only by using it.
    /// </summary>
    public static bool IsConnectionLost(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown,
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or EndOfStreamException } => true,
        _ => exception.InnerException is { } inner && IsConnectionLost(inner),
    };

    /// <summary>Worth trying again: an outage or a conflict.</summary>
    public static bool IsTransient(Exception exception) => IsOutage(exception) || IsConflict(exception);
}
