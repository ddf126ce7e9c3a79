using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kata3.Api.Data;
using Kata3.AppHost.Infrastructure;
using Kata3.Contracts;
using Kata3.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Kata3.Tests.Fast;

/// <summary>
/// One real PostgreSQL for the whole fast layer, without the AppHost: initdb into a fresh
/// directory under /tmp, postmaster on a free loopback port, the API's own migrations. The
/// AppHost's local-mode helpers (finding the binaries, initdb with a password file, dropping
/// root, the fast stop, the throwaway directory) do the work, so both start PostgreSQL alike.
/// Tests share it and keep apart by using their own rows.
/// </summary>
public sealed class FastDatabase : IAsyncLifetime
{
    public const string Collection = "Fast database";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentQueue<string> _serverLog = new();
    private LocalDataDirectory? _directory;
    private Process? _postmaster;
    private IHost? _clients;

    /// <summary>The services' default data source, configured as AddStoreClients configures it.</summary>
    internal NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>The hot-path data source (generic plans, index scans only) the batched statements run on.</summary>
    internal NpgsqlDataSource HotPath { get; private set; } = null!;

    internal DatabasePools Pools { get; private set; } = null!;

    /// <summary>The superuser's connection string (with its password) to the migrated database.</summary>
    internal string ConnectionString { get; private set; } = null!;

    private string DataPath => Path.Combine(_directory!.PostgresDirectory, "data");

    // A failed start is cleaned up by xunit's DisposeAsync, which copes with whatever got started.
    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var (postgres, initdb) = HostProcess.FindPostgres()
            ?? throw new InvalidOperationException("PostgreSQL's postgres and initdb were not found (.ci/setup installs them).");
        _directory = new LocalDataDirectory(new InfrastructureSettings(
            InfrastructureMode.Local, DataDirectory: "/tmp", EphemeralData: true, RedisMaxMemory: "0"));
        var password = _directory.GetOrCreatePassword(LocalPostgresServerResource.UserName);

        // postgres refuses to run as root: setpriv drops to the postgres user and execs in place.
        (string Command, string[] Arguments)? asPostgres = InfrastructureSettings.RunningAsRoot
            ? (HostProcess.FindOnPath("setpriv") ?? "/usr/bin/setpriv", HostProcess.DropTo(LocalPostgresServerResource.OsUser))
            : null;
        await PostgresInitializer.EnsureClusterAsync(initdb, asPostgres, DataPath, password, NullLogger.Instance, timeout.Token);

        var port = FreeLoopbackPort();
        StartPostmaster(asPostgres, postgres, port);
        var connectionString = ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = LocalPostgresServerResource.UserName, Password = password, Database = "postgres",
        }.ConnectionString;
        await WaitUntilAcceptingAsync(connectionString);

        // The data sources exactly as the services register them (pool settings, plan options).
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = connectionString,
            // Registered alongside, never connected: nothing here touches Redis.
            [$"ConnectionStrings:{ResourceNames.Redis}"] = "127.0.0.1:1,abortConnect=false",
        });
        builder.AddStoreClients(maxDatabaseConnections: 10);
        _clients = builder.Build();
        DataSource = _clients.Services.GetRequiredService<NpgsqlDataSource>();
        HotPath = _clients.Services.GetRequiredKeyedService<NpgsqlDataSource>(StoreClients.HotPath);
        Pools = _clients.Services.GetRequiredService<DatabasePools>();

        await new SchemaMigrator(_clients.Services.GetRequiredService<IConfiguration>(), DataSource, NullLogger<SchemaMigrator>.Instance)
            .StartAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        // Connections first, so the server has nobody to wait for.
        if (_clients is IAsyncDisposable clients)
        {
            await clients.DisposeAsync();
        }
        if (_postmaster is { } postmaster)
        {
            PostgresInitializer.StopFast(DataPath, TimeSpan.FromSeconds(10));
            if (!postmaster.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                postmaster.Kill(entireProcessTree: true);
            }
            postmaster.Dispose();
        }
        _directory?.DeleteIfEphemeral([Path.Combine("postgres", "data", "postmaster.pid")], TimeSpan.FromSeconds(5));
    }

    private void StartPostmaster((string Command, string[] Arguments)? asPostgres, string postgres, int port)
    {
        var start = new ProcessStartInfo(asPostgres?.Command ?? postgres)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        string[] arguments =
        [
            .. asPostgres is { } wrapper ? [.. wrapper.Arguments, postgres] : Array.Empty<string>(),
            "-D", DataPath, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Loopback TCP only, no Unix socket; and no fsync: these data are thrown away.
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _postmaster = new Process { StartInfo = start };
        _postmaster.OutputDataReceived += (_, line) => Log(line.Data);
        _postmaster.ErrorDataReceived += (_, line) => Log(line.Data);
        _postmaster.Start();
        _postmaster.BeginOutputReadLine();
        _postmaster.BeginErrorReadLine();
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            _serverLog.Enqueue(line);
        }
    }

    private async Task WaitUntilAcceptingAsync(string connectionString)
    {
        var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 2 }.ConnectionString;
        await Eventually.Async(async () =>
        {
            if (_postmaster!.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with {_postmaster.ExitCode}: {string.Join('\n', _serverLog)}");
            }
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync();
                return true;
            }
            catch (NpgsqlException)
            {
                return false;
            }
        }, StartTimeout, () => $"PostgreSQL did not accept connections: {string.Join('\n', _serverLog)}");
    }

    // The port is free when asked; postgres binding it a moment later is the usual small race.
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(FastDatabase.Collection)]
public sealed class FastDatabaseCollection : ICollectionFixture<FastDatabase>;
