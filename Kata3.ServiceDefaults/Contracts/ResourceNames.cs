namespace Kata3.Contracts;

/// <summary>Names the AppHost gives its resources, which are also the clients' connection names.</summary>
public static class ResourceNames
{
    public const string Redis = "redis";
    public const string Database = "kata3db";

    /// <summary>
    /// The connection the API migrates the schema through: the role that owns the tables. Every
    /// other connection (<see cref="Database"/>) is an application role that may only read and write rows.
    /// </summary>
    public const string DatabaseOwner = "kata3db-owner";
    public const string Api = "api";
    public const string Worker = "worker";
}
