using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker;

/// <summary>
/// Holds the worker's start until the database has the schema it was built for. The API migrates
/// (it owns the schema); a replica started before it, or while it is down, waits here instead of
/// failing its first queries, so replicas need not wait for the API to start.
/// </summary>
internal sealed class SchemaGate(NpgsqlDataSource dataSource, TimeProvider time, ILogger<SchemaGate> logger) : IHostedService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var waiting = time.GetTimestamp();
        var reported = waiting;
        while (await AppliedVersionAsync(cancellationToken) is var (applied, error) && applied < SchemaVersion.Current)
        {
            if (time.GetElapsedTime(reported) >= ReportEvery)
            {
                reported = time.GetTimestamp();
                logger.LogWarning("Waiting {Waited:0} s for schema version {Required} (the database has {Applied}{Error}); the API applies it",
                    time.GetElapsedTime(waiting).TotalSeconds, SchemaVersion.Current, applied, error is null ? "" : $"; {error}");
            }
            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // 0, and why, while the database is unreachable or not migrated at all. The table's existence is
    // asked first: a query of a missing table would be an ERROR in PostgreSQL's log at every poll.
    private async Task<(int Applied, string? Error)> AppliedVersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var exists = dataSource.CreateCommand("SELECT to_regclass('schema_migrations') IS NOT NULL");
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return (0, null);
            }
            await using var command = dataSource.CreateCommand("SELECT coalesce(max(version), 0) FROM schema_migrations");
            return ((int)(await command.ExecuteScalarAsync(cancellationToken))!, null);
        }
        catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, ex.Message);
        }
    }
}
