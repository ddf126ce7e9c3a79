using System.Diagnostics;
using System.Security.Cryptography;

namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// Where the local servers keep their data and generated passwords. Persistent by default
/// (Kata3:DataDirectory), or a fresh directory under /tmp that is deleted when the app stops
/// (Kata3:EphemeralData=true). Created on first use, so a build that never runs touches no disk.
/// </summary>
internal sealed class LocalDataDirectory
{
    private const string EphemeralPrefix = "kata3-ephemeral-";
    private const string OwnerFileName = "owner.pid";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Traversable = OwnerOnly | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly Lazy<string> _root;
    private readonly Lazy<string> _postgresDirectory;
    private readonly Lock _lock = new();

    public LocalDataDirectory(InfrastructureSettings settings)
    {
        IsEphemeral = settings.EphemeralData;
        _root = new Lazy<string>(() => IsEphemeral ? CreateEphemeralRoot() : CreateDirectory(settings.DataDirectory, Traversable));
        _postgresDirectory = new Lazy<string>(() =>
        {
            var directory = CreateDirectory(Path.Combine(Root, "postgres"), OwnerOnly | UnixFileMode.UserExecute);
            GiveTo(directory, LocalPostgresServerResource.OsUser);
            return directory;
        });
    }

    public bool IsEphemeral { get; }

    public string Root => _root.Value;

    /// <summary>Redis's area; the caller gives it to the redis user when the AppHost runs as root.</summary>
    public string RedisDirectory => CreateDirectory(Path.Combine(Root, "redis"), OwnerOnly | UnixFileMode.UserExecute);

    /// <summary>PostgreSQL's area: owned by the postgres user when the AppHost runs as root.</summary>
    public string PostgresDirectory => _postgresDirectory.Value;

    /// <summary>
    /// The password in {Root}/{name}.password (mode 0600), generated on first use so that a restart
    /// reuses it: PostgreSQL keeps its password from initdb, so it must never change under it.
    /// </summary>
    public string GetOrCreatePassword(string name)
    {
        lock (_lock)
        {
            var file = Path.Combine(Root, $"{name}.password");
            if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } existing)
            {
                return existing;
            }

            // Letters and digits only: commas and semicolons would break the connection strings.
            var password = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32);
            WriteSecretFile(file, password);
            return password;
        }
    }

    /// <summary>Writes a file only its owner can read, without a moment where it is world-readable.</summary>
    public static void WriteSecretFile(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.Write(content);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerOnly); // Create keeps the mode of a file that already existed.
        }
    }

    /// <summary>
    /// chown -R to <paramref name="user"/> (and its group of the same name), which runs the server
    /// when the AppHost is root. The Debian packages create the postgres and redis users.
    /// </summary>
    public static void GiveTo(string path, string user)
    {
        if (!InfrastructureSettings.RunningAsRoot)
        {
            return;
        }

        var result = HostProcess.RunAsync("chown", ["-R", $"{user}:{user}", path], TimeSpan.FromSeconds(30))
            .GetAwaiter().GetResult();
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not give {path} to the {user} user ({result.Summary}). Installing the server's Debian package creates that user.");
        }
    }

    /// <summary>
    /// Deletes an ephemeral directory once the servers that used it have exited (their pid files
    /// are gone or name dead processes), so PostgreSQL never sees its files vanish under it.
    /// </summary>
    /// <param name="pidFiles">Pid files, relative to <see cref="Root"/>.</param>
    public void DeleteIfEphemeral(IReadOnlyList<string> pidFiles, TimeSpan wait)
    {
        if (!IsEphemeral || !_root.IsValueCreated || !Directory.Exists(Root))
        {
            return;
        }

        var deadline = Stopwatch.StartNew();
        while (pidFiles.Any(file => IsAlive(Path.Combine(Root, file))) && deadline.Elapsed < wait)
        {
            Thread.Sleep(100);
        }

        TryDelete(Root);
    }

    private static string CreateEphemeralRoot()
    {
        SweepStaleEphemeralRoots();

        // Under /tmp rather than $TMPDIR: it must be reachable for the postgres user.
        var root = CreateDirectory(Path.Combine("/tmp", EphemeralPrefix + Guid.NewGuid().ToString("N")[..12]), Traversable);
        File.WriteAllText(Path.Combine(root, OwnerFileName), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return root;
    }

    // A killed AppHost cannot clean up after itself: the next ephemeral run removes what it left.
    private static void SweepStaleEphemeralRoots()
    {
        foreach (var directory in Directory.EnumerateDirectories("/tmp", EphemeralPrefix + "*"))
        {
            var ownerFile = Path.Combine(directory, OwnerFileName);
            if (File.Exists(ownerFile) && !IsAlive(ownerFile)
                && !IsAlive(Path.Combine(directory, "postgres", "data", "postmaster.pid"))
                && !IsAlive(Path.Combine(directory, "redis", "redis.pid")))
            {
                TryDelete(directory);
            }
        }
    }

    /// <summary>True when the file exists and its first line is the pid of a running process.</summary>
    public static bool IsAlive(string pidFile)
    {
        try
        {
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
            {
                return false;
            }

            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path).FullName;
        }

        Directory.CreateDirectory(path, mode);
        File.SetUnixFileMode(path, mode); // the umask may have narrowed it
        return path;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next ephemeral run sweeps it.
        }
    }
}
