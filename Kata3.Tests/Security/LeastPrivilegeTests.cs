using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Kata3.Tests.Security;

/// <summary>
/// The services reach PostgreSQL as an application role that can read and write rows and nothing
/// more; the schema belongs to an owner role; the local servers never run as root.
/// </summary>
[Collection(OneWorkerCollection.Name)]
public sealed class LeastPrivilegeTests(OneWorkerApp app)
{
    [Fact]
    public async Task TheServicesRoleCanUseTheTablesButNotChangeThem()
    {
        var connectionStrings = new List<string>();
        foreach (var service in new[] { ResourceNames.Api, ResourceNames.Worker })
        {
            var environment = await EnvironmentOfAsync(service);
            var connectionString = environment[$"ConnectionStrings__{ResourceNames.Database}"];
            Assert.Equal("kata3_app", new NpgsqlConnectionStringBuilder(connectionString).Username);
            Assert.Equal(service == ResourceNames.Api, environment.ContainsKey($"ConnectionStrings__{ResourceNames.DatabaseOwner}"));
            connectionStrings.Add(connectionString);
        }

        // The running services are connected as that role, not as the superuser.
        await using (var count = app.Database.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = 'kata3_app'"))
        {
            Assert.True((long)(await count.ExecuteScalarAsync())! > 0, "no connection as kata3_app");
        }

        // Rows: yes. An order goes through end to end as that role.
        var accepted = await app.PostOrderAsync("least-privilege");
        await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(60), "completed");

        // Structure: no. Each statement is refused with insufficient_privilege (42501).
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionStrings[0]) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        string[] refused =
        [
            "CREATE TABLE intruder (id int)",
            "DROP TABLE jobs",
            "ALTER TABLE orders ADD COLUMN intruder int",
            "TRUNCATE job_attempts",
            "CREATE INDEX intruder ON orders (product)",
            "CREATE SCHEMA intruder",
            "CREATE TEMP TABLE intruder (id int)",
        ];
        foreach (var statement in refused)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.True(error.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{statement}: {error.SqlState} {error.MessageText}");
        }

        // The tables belong to the owner role, which is not a superuser either.
        await using var owners = app.Database.CreateCommand("""
            SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class
            WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
            """);
        Assert.Equal("kata3_owner", (string?)await owners.ExecuteScalarAsync());
        await using var super = app.Database.CreateCommand(
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('kata3_owner', 'kata3_app') AND (rolsuper OR rolcreaterole OR rolcreatedb)");
        Assert.Equal(0L, (long)(await super.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task TheLocalServersDoNotRunAsRoot()
    {
        // Redis and PostgreSQL each name their own process; its owner is in /proc.
        var info = (string)(await app.Redis.ExecuteAsync("INFO", "server"))!;
        var redisPid = int.Parse(info.Split('\n').Single(line => line.StartsWith("process_id:", StringComparison.Ordinal))["process_id:".Length..].Trim());
        await using var backend = app.Database.CreateCommand("SELECT pg_backend_pid()");
        var postgresPid = (int)(await backend.ExecuteScalarAsync())!;

        foreach (var (server, pid) in new[] { ("redis-server", redisPid), ("postgres", postgresPid) })
        {
            // "Uid: real effective saved filesystem"
            var uids = File.ReadLines($"/proc/{pid}/status").Single(line => line.StartsWith("Uid:", StringComparison.Ordinal))
                .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1..].Select(int.Parse).ToArray();
            Assert.True(uids.All(uid => uid != 0), $"{server} (pid {pid}) runs with uids {string.Join(' ', uids)}; the tests run as uid {Environment.GetEnvironmentVariable("UID") ?? "?"}");
        }
    }

    /// <summary>The environment the AppHost gives a service, resolved as for a run.</summary>
    private async Task<IReadOnlyDictionary<string, string>> EnvironmentOfAsync(string service)
    {
        var resource = app.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>().Single(r => r.Name == service);
        var configuration = await ExecutionConfigurationBuilder.Create(resource).WithEnvironmentVariablesConfig()
            .BuildAsync(app.App.Services.GetRequiredService<DistributedApplicationExecutionContext>(), NullLogger.Instance, CancellationToken.None);
        return configuration.EnvironmentVariables.ToDictionary();
    }
}
