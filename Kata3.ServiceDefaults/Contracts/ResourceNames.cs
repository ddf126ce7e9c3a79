namespace Kata3.Contracts;

/// <summary>
/// Names the AppHost gives its resources; those the services connect to are also their connection
/// names. Tests find the resources (to stop, start or ask them) by the same names.
/// </summary>
public static class ResourceNames
{
    public const string Redis = "redis";
    public const string Database = "kata3db";

    /// <summary>The PostgreSQL server resource that <see cref="Database"/> lives on.</summary>
    public const string DatabaseServer = "postgres";

    /// <summary>
    /// The connection the API migrates the schema through: the role that owns the tables. Every
    /// other connection (<see cref="Database"/>) is an application role that may only read and write rows.
    /// </summary>
    public const string DatabaseOwner = "kata3db-owner";
    public const string Api = "api";
    public const string Worker = "worker";

    /// <summary>The queue itself, on the dashboard: live counts and the operators' commands.</summary>
    public const string Jobs = "jobs";
}
