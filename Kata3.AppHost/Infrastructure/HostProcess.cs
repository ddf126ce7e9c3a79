using System.Diagnostics;

namespace Kata3.AppHost.Infrastructure;

/// <summary>Small helpers for the host tools the infrastructure shells out to (docker, initdb, chown).</summary>
internal static class HostProcess
{
    /// <summary>The result of a finished (or timed-out) tool run; Output holds stdout and stderr.</summary>
    public sealed record Result(int ExitCode, string Output, bool TimedOut)
    {
        public bool Succeeded => ExitCode == 0 && !TimedOut;

        /// <summary>The last non-empty line, short enough for a one-line log message.</summary>
        public string Summary => TimedOut
            ? "timed out"
            : Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
                ?? $"exit code {ExitCode}";
    }

    /// <summary>
    /// Runs a tool to completion. Arguments go through ArgumentList (no shell), and a tool
    /// that outlives <paramref name="timeout"/> is killed with its children.
    /// </summary>
    public static async Task<Result> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            // Not installed (or not executable): report it like a failed run, the callers decide.
            return new Result(-1, $"{fileName}: {ex.Message}", TimedOut: false);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return new Result(-1, string.Empty, TimedOut: true);
        }

        var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        return new Result(process.ExitCode, output, TimedOut: false);
    }

    /// <summary>
    /// setpriv's arguments (before the command) that run a command as <paramref name="user"/> and
    /// its group of the same name. setpriv execs in place: DCP watches and signals the server itself.
    /// </summary>
    public static string[] DropTo(string user) => [$"--reuid={user}", $"--regid={user}", "--init-groups", "--"];

    /// <summary>Full path of an executable found on PATH, or null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(IsExecutable);
    }

    /// <summary>
    /// PostgreSQL's postgres and initdb, from one installation: postgres on PATH first (followed
    /// through symlinks to its real directory), then the newest /usr/lib/postgresql/N/bin, where
    /// Debian installs them without putting them on PATH.
    /// </summary>
    public static (string Postgres, string Initdb)? FindPostgres()
    {
        var postgres = FindOnPath("postgres") is { } onPath
            ? File.ResolveLinkTarget(onPath, returnFinalTarget: true)?.FullName ?? onPath
            : FindInDebianLayout("postgres");
        var initdb = postgres is null ? null : Path.Combine(Path.GetDirectoryName(postgres)!, "initdb");
        return postgres is not null && IsExecutable(initdb!) ? (postgres, initdb!) : null;
    }

    private static string? FindInDebianLayout(string name)
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot))
        {
            return null;
        }

        return Directory.EnumerateDirectories(debianRoot)
            .Select(directory => (Version: int.TryParse(Path.GetFileName(directory), out var v) ? v : -1, Directory: directory))
            .Where(candidate => candidate.Version >= 0)
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => Path.Combine(candidate.Directory, "bin", name))
            .FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string file) =>
        File.Exists(file)
        && (OperatingSystem.IsWindows()
            || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
