using System.Net.Sockets;
using Kata3;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Tests.Fast;

/// <summary>
/// How a store failure is classified (StoreFaults), which decides whether a write waits, runs
/// again at once, or fails its caller. PostgresException is what the server answers.
/// </summary>
[Trait("Category", "Fast")]
public sealed class StoreFaultsTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.ConnectionFailure, true)]       // 08006
    [InlineData(PostgresErrorCodes.TooManyConnections, true)]      // 53300
    [InlineData(PostgresErrorCodes.DiskFull, true)]                // 53100
    [InlineData(PostgresErrorCodes.AdminShutdown, true)]           // 57P01
    [InlineData(PostgresErrorCodes.CannotConnectNow, true)]        // 57P03
    [InlineData(PostgresErrorCodes.QueryCanceled, true)]           // 57014
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]        // 23505
    [InlineData(PostgresErrorCodes.CheckViolation, false)]         // 23514
    [InlineData(PostgresErrorCodes.DeadlockDetected, false)]       // 40P01
    [InlineData(PostgresErrorCodes.SyntaxError, false)]            // 42601
    [InlineData(PostgresErrorCodes.RaiseException, false)]         // P0001
    public void ServerAnswerIsAnOutageOnlyInClasses08_53_57(string sqlState, bool outage)
    {
        // PostgresException is an NpgsqlException, which alone counts as an outage: the SQLSTATE must win.
        Assert.Equal(outage, StoreFaults.IsOutage(Postgres(sqlState)));
    }

    [Fact]
    public void FailuresToReachAStoreAreOutages()
    {
        Assert.All(new Exception[]
        {
            new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)),
            new NpgsqlException("The connection pool has been exhausted"),
            new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection is available"),
            new RedisTimeoutException("Timeout performing GET", CommandStatus.Sent),
            new RedisServerException("OOM command not allowed when used memory > 'maxmemory'"),
            new TimeoutException(),
            new InvalidOperationException("wrapped", new AggregateException(new NpgsqlException("deep"))),
        }, ex => Assert.True(StoreFaults.IsOutage(ex), ex.ToString()));
    }

    [Fact]
    public void OtherFailuresAreNoOutage()
    {
        Assert.All(new Exception[]
        {
            new InvalidOperationException("a bug"),
            new OperationCanceledException(),
            new FormatException(),
            new InvalidOperationException("wrapped", Postgres(PostgresErrorCodes.UniqueViolation)),
        }, ex => Assert.False(StoreFaults.IsOutage(ex), ex.ToString()));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.DeadlockDetected, true)]
    [InlineData(PostgresErrorCodes.SerializationFailure, true)]
    [InlineData(PostgresErrorCodes.LockNotAvailable, false)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    [InlineData(PostgresErrorCodes.AdminShutdown, false)]
    public void OnlyDeadlocksAndSerializationFailuresAreConflicts(string sqlState, bool conflict)
    {
        Assert.Equal(conflict, StoreFaults.IsConflict(Postgres(sqlState)));
        Assert.Equal(conflict, StoreFaults.IsConflict(new InvalidOperationException("wrapped", Postgres(sqlState))));
        Assert.Equal(conflict, StoreFaults.IsTransient(Postgres(sqlState)) && !StoreFaults.IsOutage(Postgres(sqlState)));
    }

    [Fact]
    public void ConnectionFailureIsNoConflict()
    {
        Assert.False(StoreFaults.IsConflict(new NpgsqlException("Failed to connect")));
        Assert.True(StoreFaults.IsTransient(new NpgsqlException("Failed to connect")));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.NumericValueOutOfRange, true)]  // 22003
    [InlineData(PostgresErrorCodes.CharacterNotInRepertoire, true)] // 22021
    [InlineData(PostgresErrorCodes.UniqueViolation, true)]         // 23505
    [InlineData(PostgresErrorCodes.CheckViolation, true)]          // 23514
    [InlineData(PostgresErrorCodes.RaiseException, true)]          // P0001
    [InlineData(PostgresErrorCodes.SyntaxError, false)]            // 42601: our bug, not the data
    [InlineData(PostgresErrorCodes.UndefinedTable, false)]
    [InlineData(PostgresErrorCodes.DeadlockDetected, false)]
    [InlineData(PostgresErrorCodes.AdminShutdown, false)]
    public void RefusalIsDataTheServerWillNeverAccept(string sqlState, bool refusal)
    {
        Assert.Equal(refusal, StoreFaults.IsRefusal(Postgres(sqlState)));
        Assert.Equal(refusal, StoreFaults.IsRefusal(new InvalidOperationException("wrapped", Postgres(sqlState))));
    }

    [Fact]
    public void ClientSideFailuresAreNoRefusal()
    {
        Assert.False(StoreFaults.IsRefusal(new NpgsqlException("Failed to connect")));
        Assert.False(StoreFaults.IsRefusal(new ArgumentException("bad")));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown, true)]           // 57P01: server shut down
    [InlineData(PostgresErrorCodes.CrashShutdown, true)]           // 57P02: server crashed
    [InlineData(PostgresErrorCodes.CannotConnectNow, false)]       // 57P03: still starting, no connection yet
    [InlineData(PostgresErrorCodes.TooManyConnections, false)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    public void ServerEndingTheSessionLosesTheConnection(string sqlState, bool lost)
    {
        Assert.Equal(lost, StoreFaults.IsConnectionLost(Postgres(sqlState)));
        Assert.Equal(lost, StoreFaults.IsConnectionLost(new InvalidOperationException("wrapped", Postgres(sqlState))));
    }

    [Fact]
    public void BrokenSocketLosesTheConnection()
    {
        Assert.All(new Exception[]
        {
            new NpgsqlException("Exception while reading from stream", new EndOfStreamException()),
            new NpgsqlException("Exception while writing to stream", new IOException("Broken pipe")),
            new NpgsqlException("Exception while reading from stream", new SocketException((int)SocketError.ConnectionReset)),
            new InvalidOperationException("wrapped", new NpgsqlException("reading", new EndOfStreamException())),
        }, ex => Assert.True(StoreFaults.IsConnectionLost(ex), ex.ToString()));
    }

    [Fact]
    public void FailuresThatLeaveTheConnectionAreNotLost()
    {
        Assert.All(new Exception[]
        {
            new NpgsqlException("The connection pool has been exhausted"),
            new NpgsqlException("timeout", new TimeoutException()),
            new TimeoutException(),
            new RedisConnectionException(ConnectionFailureType.SocketClosed, "closed"),
        }, ex => Assert.False(StoreFaults.IsConnectionLost(ex), ex.ToString()));
    }

    private static PostgresException Postgres(string sqlState) => new("fast test", "FATAL", "FATAL", sqlState);
}
