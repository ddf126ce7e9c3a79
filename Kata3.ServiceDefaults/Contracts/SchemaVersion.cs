namespace Kata3.Contracts;

/// <summary>
/// The database schema version this build's code reads and writes. The API applies migrations up
/// to it; a worker starts consuming only once the database has it, so it can start alongside the API.
/// </summary>
public static class SchemaVersion
{
    public const int Current = 8;
}
