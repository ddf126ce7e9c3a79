using Microsoft.Playwright;

namespace Kata3.Tests.JobsUi;

/// <summary>
/// Headless Chromium from the machine (.ci/setup installs Debian's chromium), driven by Playwright's
/// bundled driver: no browser is downloaded. KATA3_CHROMIUM overrides the executable's path.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ExecutableVariable = "KATA3_CHROMIUM";

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        Chromium = chromium;
    }

    public IBrowser Chromium { get; }

    public static async Task<Browser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable(ExecutableVariable) ?? "/usr/bin/chromium",
            Headless = true,
            // Root in a container: no sandbox; no GPU; /dev/shm may be tiny.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 30_000,
        });
        return new Browser(playwright, chromium);
    }

    /// <summary>A fresh context (its own cookies) on <paramref name="baseUrl"/>, sized like a laptop screen.</summary>
    public async Task<IPage> NewPageAsync(Uri baseUrl)
    {
        var context = await Chromium.NewContextAsync(new()
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new() { Width = 1200, Height = 800 },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
