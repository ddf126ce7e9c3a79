using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Kata3.AppHost.Infrastructure;

/// <summary>How Redis and PostgreSQL are hosted.</summary>
internal enum InfrastructureMode
{
    /// <summary>Containers when a container runtime answers and has the images, else local.</summary>
    Auto,

    /// <summary>Aspire's own Redis and PostgreSQL containers.</summary>
    Containers,

    /// <summary>redis-server and postgres from this machine, run as executables.</summary>
    Local,
}

/// <summary>
/// The Kata3:* keys that steer the infrastructure. They come from the AppHost's configuration,
/// so `--Kata3:Infrastructure=local` and `Kata3__Infrastructure=local` both work.
/// </summary>
internal sealed partial record InfrastructureSettings(InfrastructureMode Mode, string DataDirectory, bool EphemeralData, string RedisMaxMemory)
{
    public const string ModeKey = "Kata3:Infrastructure";
    public const string DataDirectoryKey = "Kata3:DataDirectory";
    public const string EphemeralDataKey = "Kata3:EphemeralData";
    public const string RedisMaxMemoryKey = "Kata3:RedisMaxMemory";

    /// <summary>
    /// Redis never takes more than this (with noeviction: it refuses new writes instead of
    /// dropping keys). PostgreSQL holds every job, so what Redis refuses is delivered later.
    /// </summary>
    public const string DefaultRedisMaxMemory = "512mb";

    /// <summary>Root runs the servers as the postgres user, whose files cannot live under /root.</summary>
    public static bool RunningAsRoot => !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    public static InfrastructureSettings Read(IConfiguration configuration)
    {
        var modeText = configuration[ModeKey];
        var mode = string.IsNullOrWhiteSpace(modeText)
            ? InfrastructureMode.Auto
            : Enum.TryParse<InfrastructureMode>(modeText.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new InvalidOperationException(
                    $"{ModeKey} is '{modeText}'; expected 'auto', 'containers' or 'local'.");

        var dataDirectory = configuration[DataDirectoryKey] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : DefaultDataDirectory();

        var maxMemory = (configuration[RedisMaxMemoryKey] is { Length: > 0 } memory ? memory : DefaultRedisMaxMemory).Trim().ToLowerInvariant();
        if (!RedisMemorySize().IsMatch(maxMemory))
        {
            throw new InvalidOperationException(
                $"{RedisMaxMemoryKey} is '{maxMemory}'; expected bytes or a size such as 512mb or 2gb (0: no limit).");
        }

        return new InfrastructureSettings(mode, dataDirectory, configuration.GetValue(EphemeralDataKey, false), maxMemory);
    }

    // Redis's own memory units: bytes, k/kb, m/mb, g/gb.
    [GeneratedRegex("^[0-9]+(b|k|kb|m|mb|g|gb)?$")]
    private static partial Regex RedisMemorySize();

    // Root's home is closed to the postgres user, so root keeps the data in /var/lib like a service would.
    private static string DefaultDataDirectory() => RunningAsRoot
        ? "/var/lib/kata3"
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "kata3");
}
