namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// A PostgreSQL server from this machine, with the same endpoint name and connection-string shape
/// as Aspire's PostgreSQL container (Host=...;Port=...;Username=postgres;Password=...).
/// </summary>
/// <remarks>
/// When the AppHost runs as root the command is setpriv, which drops to the postgres user and then
/// execs postgres in place: the process DCP watches and signals is the postmaster itself.
/// </remarks>
internal sealed class LocalPostgresServerResource(string name, string command, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory: "/"), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";
    public const string UserName = "postgres";

    /// <summary>The operating-system user the server runs as when the AppHost is root.</summary>
    public const string OsUser = "postgres";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => field ??= new EndpointReference(this, PrimaryEndpointName);

    /// <summary>Database name by resource name, as in Aspire's PostgresServerResource.Databases.</summary>
    public Dictionary<string, string> Databases { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Password={PasswordParameter}");
}

/// <summary>A database on <see cref="LocalPostgresServerResource"/>; created when the server is ready.</summary>
internal sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public LocalPostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
