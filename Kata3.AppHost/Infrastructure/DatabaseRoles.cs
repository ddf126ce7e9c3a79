using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// The two PostgreSQL roles the services use instead of the superuser: <see cref="OwnerRole"/>
/// owns the database and its tables (the API's migrations run as it), <see cref="AppRole"/> (every
/// other connection) may only read and write rows. Their passwords are secret parameters.
/// </summary>
internal sealed class DatabaseRoles
{
    public const string OwnerRole = "kata3_owner";
    public const string AppRole = "kata3_app";

    private DatabaseRoles(ReferenceExpression owner, ReferenceExpression app)
    {
        OwnerConnectionString = owner;
        AppConnectionString = app;
    }

    public ReferenceExpression OwnerConnectionString { get; }

    public ReferenceExpression AppConnectionString { get; }

    /// <summary>
    /// Adds the roles' passwords and a health check on <paramref name="database"/> that creates or
    /// updates the roles before it passes, so <c>WaitFor(database)</c> also waits for them.
    /// </summary>
    /// <param name="database">The database, with a superuser connection string.</param>
    /// <param name="server">The server's endpoint, which the roles' connection strings point at.</param>
    public static DatabaseRoles Add<TDatabase>(
        IDistributedApplicationBuilder builder, IResourceBuilder<TDatabase> database, string databaseName, EndpointReference server)
        where TDatabase : IResourceWithConnectionString
    {
        // Set on the roles at every start, so they need not be kept anywhere.
        ParameterResource Password(string role) => builder.AddParameter($"{role.Replace('_', '-')}-password",
            new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true).Resource;
        ReferenceExpression ConnectionString(string role, ParameterResource password) => ReferenceExpression.Create(
            $"Host={server.Property(EndpointProperty.Host)};Port={server.Property(EndpointProperty.Port)};Username={role};Password={password};Database={databaseName}");

        var ownerPassword = Password(OwnerRole);
        var appPassword = Password(AppRole);
        var roles = new DatabaseRoles(ConnectionString(OwnerRole, ownerPassword), ConnectionString(AppRole, appPassword));

        var checkName = $"{database.Resource.Name}_roles";
        var check = new RolesCheck(database.Resource, roles, ownerPassword, appPassword);
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(checkName, check, failureStatus: null, tags: null));
        database.WithHealthCheck(checkName);
        return roles;
    }

    /// <summary>
    /// Creates the roles or resets their passwords; moves the database, its schema and every table
    /// to the owner (a database from before the roles belongs to the superuser); grants the
    /// application role row access only, now and for tables the owner creates later. Idempotent.
    /// </summary>
    private static async Task ProvisionAsync(string superuserConnectionString, string ownerPassword, string appPassword, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuserConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        foreach (var (role, password) in new[] { (OwnerRole, ownerPassword), (AppRole, appPassword) })
        {
            // format() quotes the password on the server; it never goes into a statement's text here.
            await using var command = new NpgsqlCommand("""
                SELECT format(
                    CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = @role)
                         THEN 'ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L'
                         ELSE 'CREATE ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L' END,
                    @role, @password)
                """, connection);
            command.Parameters.AddWithValue("role", role);
            command.Parameters.AddWithValue("password", password);
            var statement = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            await using var apply = new NpgsqlCommand(statement, connection);
            await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var grants = new NpgsqlCommand($$"""
            DO $$
            DECLARE item record;
            BEGIN
                EXECUTE format('ALTER DATABASE %I OWNER TO {{OwnerRole}}', current_database());
                EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
                EXECUTE format('GRANT CONNECT ON DATABASE %I TO {{AppRole}}', current_database());

                -- Tables, views and free-standing sequences; a column's own sequence moves with its table.
                FOR item IN
                    SELECT c.oid::regclass AS name FROM pg_class c
                    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                      AND c.relowner <> '{{OwnerRole}}'::regrole
                      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
                LOOP
                    EXECUTE format('ALTER TABLE %s OWNER TO {{OwnerRole}}', item.name);
                END LOOP;
            END
            $$;
            ALTER SCHEMA public OWNER TO {{OwnerRole}};
            REVOKE ALL ON SCHEMA public FROM PUBLIC;
            GRANT USAGE ON SCHEMA public TO {{AppRole}};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {{AppRole}};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {{AppRole}};
            ALTER DEFAULT PRIVILEGES FOR ROLE {{OwnerRole}} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {{AppRole}};
            ALTER DEFAULT PRIVILEGES FOR ROLE {{OwnerRole}} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {{AppRole}};
            """, connection);
        await grants.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Provisions the roles (again after any failure, e.g. a restarted server), then passes once
    /// the application role can log in.
    /// </summary>
    private sealed class RolesCheck(IResourceWithConnectionString database, DatabaseRoles roles, ParameterResource ownerPassword, ParameterResource appPassword)
        : IHealthCheck
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _provisioned;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_provisioned)
                {
                    await ProvisionAsync(
                        (await database.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false))!,
                        (await ownerPassword.GetValueAsync(cancellationToken).ConfigureAwait(false))!,
                        (await appPassword.GetValueAsync(cancellationToken).ConfigureAwait(false))!,
                        cancellationToken).ConfigureAwait(false);
                    _provisioned = true;
                }

                var app = (await roles.AppConnectionString.GetValueAsync(cancellationToken).ConfigureAwait(false))!;
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(app) { Pooling = false }.ConnectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                _provisioned = false;
                return HealthCheckResult.Unhealthy($"The {OwnerRole} and {AppRole} roles are not ready: {ex.Message}");
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
