using Kata3.Api.Data;
using Kata3.Contracts;
using Kata3.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Kata3.Tests.Fast;

/// <summary>A worker starts alongside the API and waits for the schema version it was built for.</summary>
[Collection(FastDatabase.Collection)]
[Trait("Category", "Fast")]
public sealed class SchemaGateTests(FastDatabase db)
{
    [Fact]
    public void TheVersionWorkersWaitForIsTheLastMigration() =>
        Assert.Equal(SchemaVersion.Current, Schema.Migrations[^1].Version);

    [Fact]
    public async Task TheGatePassesOnTheMigratedDatabase() =>
        await new SchemaGate(db.DataSource, TimeProvider.System, NullLogger<SchemaGate>.Instance).StartAsync(CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task TheGateWaitsThroughAMissingAndAnOlderSchemaAndPassesOnceTheCurrentOneIsApplied()
    {
        var name = $"gate_{Guid.NewGuid():N}";
        await ExecuteAsync(db.DataSource, $"CREATE DATABASE {name}");
        try
        {
            await using (var database = NpgsqlDataSource.Create(
                new NpgsqlConnectionStringBuilder(db.ConnectionString) { Database = name, Pooling = false }.ConnectionString))
            {
                var start = new SchemaGate(database, TimeProvider.System, NullLogger<SchemaGate>.Instance).StartAsync(CancellationToken.None);

                await AssertStillWaitingAsync(start, "no schema_migrations table");
                await ExecuteAsync(database, $"CREATE TABLE schema_migrations (version integer PRIMARY KEY); INSERT INTO schema_migrations VALUES ({SchemaVersion.Current - 1})");
                await AssertStillWaitingAsync(start, "an older version");
                await ExecuteAsync(database, $"INSERT INTO schema_migrations VALUES ({SchemaVersion.Current})");

                await start.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            await ExecuteAsync(db.DataSource, $"DROP DATABASE {name} WITH (FORCE)");
        }
    }

    // A gate polls five times a second: one second without passing is five refusals.
    private static async Task AssertStillWaitingAsync(Task start, string state)
    {
        var waited = await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(1)));
        Assert.False(waited == start, $"the gate passed with {state}");
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
