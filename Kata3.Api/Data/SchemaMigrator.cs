using Kata3.Contracts;
using Npgsql;

namespace Kata3.Api.Data;

/// <summary>
/// Brings the schema up to date before the API serves its first request. An advisory lock
/// serialises concurrent starters (several API replicas), so each migration runs exactly once.
/// It connects as the schema's owner (connection string <see cref="ResourceNames.DatabaseOwner"/>);
/// without one, through the services' own connection, for a deployment with a single role.
/// </summary>
internal sealed class SchemaMigrator(IConfiguration configuration, NpgsqlDataSource appDataSource, ILogger<SchemaMigrator> logger) : IHostedService
{
    // Any fixed number: it names the lock, shared by every process that migrates this database.
    private const long MigrationLockId = 0x6B61746133;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = configuration.GetConnectionString(ResourceNames.DatabaseOwner) is { Length: > 0 } owner
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(owner) { Pooling = false }.ConnectionString)
            : appDataSource.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await Execute(connection, "SELECT pg_advisory_xact_lock(@id)", cancellationToken, ("id", MigrationLockId));
        await Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        await using var current = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_migrations", connection);
        var applied = (int)(await current.ExecuteScalarAsync(cancellationToken))!;

        foreach (var (version, sql) in Schema.Migrations.Where(m => m.Version > applied))
        {
            await Execute(connection, sql, cancellationToken);
            await Execute(connection, "INSERT INTO schema_migrations (version) VALUES (@version)", cancellationToken, ("version", version));
            logger.LogInformation("Applied schema migration {Version}", version);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
