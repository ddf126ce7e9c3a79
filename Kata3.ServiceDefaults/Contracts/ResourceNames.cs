namespace Kata3.Contracts;

/// <summary>Names the AppHost gives its resources, which are also the clients' connection names.</summary>
public static class ResourceNames
{
    public const string Redis = "redis";
    public const string Database = "kata3db";
    public const string Api = "api";
    public const string Worker = "worker";
}
