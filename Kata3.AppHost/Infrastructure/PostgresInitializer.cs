using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Kata3.AppHost.Infrastructure;

/// <summary>The two one-time jobs around a local PostgreSQL server: initdb before it starts, CREATE DATABASE once it is ready.</summary>
internal static class PostgresInitializer
{
    /// <summary>
    /// Runs initdb when the data directory holds no cluster yet (no PG_VERSION). The superuser
    /// password goes in through --pwfile, a short-lived 0600 file, never through the command line.
    /// </summary>
    /// <param name="runAs">setpriv and its arguments when the AppHost is root, else null.</param>
    public static async Task EnsureClusterAsync(
        string initdbPath, (string Command, string[] Arguments)? runAs, string dataPath, string password,
        ILogger logger, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(dataPath, "PG_VERSION")))
        {
            return;
        }

        // A directory without PG_VERSION is the rest of an interrupted initdb: start over.
        if (Directory.Exists(dataPath))
        {
            Directory.Delete(dataPath, recursive: true);
        }

        var parent = Path.GetDirectoryName(dataPath)!;
        var passwordFile = Path.Combine(parent, "initdb.pwfile");
        LocalDataDirectory.WriteSecretFile(passwordFile, password + "\n");
        try
        {
            LocalDataDirectory.GiveTo(passwordFile, LocalPostgresServerResource.OsUser);

            string[] initdb =
            [
                initdbPath, "-D", dataPath, "-U", LocalPostgresServerResource.UserName, $"--pwfile={passwordFile}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C",
            ];
            var (command, arguments) = runAs is { } wrapper
                ? (wrapper.Command, [.. wrapper.Arguments, .. initdb])
                : (initdb[0], initdb[1..]);

            logger.LogInformation("No PostgreSQL cluster in {DataPath}: running initdb.", dataPath);
            var result = await HostProcess.RunAsync(command, arguments, TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                logger.LogError("initdb failed: {Output}", result.TimedOut ? "timed out after 2 minutes" : result.Output);
                throw new DistributedApplicationException($"initdb failed: {result.Summary}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>
    /// Asks the postmaster for a fast shutdown (SIGINT) and waits briefly for it to exit. DCP stops it
    /// with SIGTERM, PostgreSQL's "smart" shutdown, which waits for every client to disconnect; when
    /// the services still hold pooled connections DCP kills it after a few seconds, uncleanly.
    /// </summary>
    public static void StopFast(string dataPath, TimeSpan wait)
    {
        var pidFile = Path.Combine(dataPath, "postmaster.pid");
        if (!LocalDataDirectory.IsAlive(pidFile))
        {
            return;
        }

        var pid = File.ReadLines(pidFile).First().Trim();
        var kill = HostProcess.RunAsync("kill", ["-INT", pid], TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (kill.Succeeded && LocalDataDirectory.IsAlive(pidFile) && elapsed.Elapsed < wait)
        {
            Thread.Sleep(50);
        }
    }

    /// <summary>Creates each database of the server that does not exist yet (SqlState 42P04 = already there).</summary>
    /// <returns>True when every database now exists.</returns>
    public static async Task<bool> CreateDatabasesAsync(
        string adminConnectionString, LocalPostgresServerResource server, IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
        try
        {
            await using var connection = new NpgsqlConnection(adminConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            foreach (var databaseName in server.Databases.Values)
            {
                var quoted = "\"" + databaseName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
                await using var command = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    logger.LogInformation("Created database {Database}.", databaseName);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
                {
                    // Kept from an earlier run.
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // Not fatal to the AppHost: the database's health check stays unhealthy, which WaitFor shows.
            logger.LogError(ex, "Could not create the databases of {Server}.", server.Name);
            return false;
        }
    }
}
