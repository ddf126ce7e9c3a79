using Microsoft.Playwright;

// The browser half of bench/screenshots (which starts the app, enqueues demo orders and picks a
// finished order's trace): logs in to the dashboard and saves the README's two pictures of it.
//   dotnet Kata3.Screenshots.dll OUTPUT_DIR   with KATA3_DASHBOARD_LOGIN (the login?t=... link the
//   AppHost prints) and KATA3_TRACE_ID (a finished order's trace) in the environment.
var output = Path.GetFullPath(args.Length > 0 ? args[0] : "docs/images");
var login = Required("KATA3_DASHBOARD_LOGIN");
var traceId = Required("KATA3_TRACE_ID");

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new()
{
    // Debian's chromium, not a downloaded one (nothing can be downloaded here). Root in a
    // container: no sandbox; no GPU; /dev/shm may be tiny.
    ExecutablePath = Environment.GetEnvironmentVariable("KATA3_CHROMIUM") ?? "/usr/bin/chromium",
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
// 1280 wide reads well scaled down in a README and keeps each PNG well under 250 KB.
var context = await browser.NewContextAsync(new()
{
    ViewportSize = new() { Width = 1280, Height = 720 },
    ColorScheme = ColorScheme.Light,
});
context.SetDefaultTimeout(30_000);
var page = await context.NewPageAsync();

try
{
    // The link sets the dashboard's auth cookie for this context; every page after it is signed in.
    await page.GotoAsync(login);
    await page.WaitForURLAsync(url => !new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.Ordinal));

    // Errors logged so far: reported, and seen, so that the red count on their resource's row
    // (errors not yet looked at) is off the picture.
    await page.GotoAsync($"{Origin(login)}/structuredlogs?logLevel=error");
    await ReportErrorsAsync(page);
    await page.GotoAsync(Origin(login));

    // The Resources page with the queue's resource open: its state and live counts. The details
    // pane scrolls on its own, so the page is made tall enough for every count to show.
    await page.SetViewportSizeAsync(1280, 920);
    await page.GetByText("jobs", new() { Exact = true }).First.ClickAsync();
    var lastCount = page.GetByText("Paused priorities").First;
    await lastCount.WaitForAsync();
    await SaveAsync(page, Path.Combine(output, "dashboard-jobs.png"), lastCount);

    // One order's trace: the API's span, the push, the worker's job and the SQL under both.
    await page.SetViewportSizeAsync(1280, 720);
    await page.GotoAsync($"{Origin(login)}/traces/detail/{traceId}");
    await page.GetByText("process job").First.WaitForAsync();
    await SaveAsync(page, Path.Combine(output, "order-trace.png"), page.Locator("tr[aria-rowindex] td").Last);
}
catch
{
    // What the browser saw, to see why a wait timed out.
    await page.ScreenshotAsync(new() { Path = "/tmp/kata3-screenshots-failure.png" });
    await File.WriteAllTextAsync("/tmp/kata3-screenshots-failure.html", await page.ContentAsync());
    Console.Error.WriteLine($"screenshots: failed on {page.Url}; the page is in /tmp/kata3-screenshots-failure.png and .html");
    throw;
}

// The page down to LAST (and a margin), not the empty space below it. (The grids' rows are
// display: contents, without a box of their own: LAST is an element inside one.)
static async Task SaveAsync(IPage page, string path, ILocator last)
{
    // Blazor renders after the load event, and the counts arrive every 2 s: let the page settle.
    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    await HideCertificateBannerAsync(page);
    var viewport = page.ViewportSize!;
    var bottom = await last.BoundingBoxAsync() is { } box ? box.Y + box.Height + 24 : viewport.Height;
    await page.ScreenshotAsync(new()
    {
        Path = path,
        Clip = new() { X = 0, Y = 0, Width = viewport.Width, Height = Math.Min(bottom, viewport.Height) },
    });
    Console.WriteLine($"{path} ({new FileInfo(path).Length / 1024} KB, {viewport.Width}x{Math.Min(bottom, viewport.Height):0})");
}

// Lists the error logs on the page (Structured logs, errors only) on stderr, to be looked into.
static async Task ReportErrorsAsync(IPage page)
{
    var shown = page.GetByText("Showing ");
    await shown.WaitForAsync();
    var rows = page.Locator("tr[aria-rowindex]");
    if (await rows.CountAsync() > 0)
    {
        Console.Error.WriteLine($"screenshots: the app logged errors meanwhile ({await shown.InnerTextAsync()}):");
        foreach (var row in await rows.AllAsync())
        {
            Console.Error.WriteLine("  " + (await row.InnerTextAsync()).ReplaceLineEndings(" | "));
        }
    }
}

// Over plain http without a trusted development certificate every page carries a red banner that
// says so; a reader's own dashboard (https, trusted certificate) does not, so the pictures leave it out.
static Task HideCertificateBannerAsync(IPage page) => page.EvaluateAsync("""
    () => {
        for (const el of document.querySelectorAll('fluent-message-bar, .message-bar, [role=alert], [role=status]')) {
            if (/certificate/i.test(el.textContent)) el.remove();
        }
    }
    """);

static string Origin(string url) => new Uri(url).GetLeftPart(UriPartial.Authority);

static string Required(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
    : throw new InvalidOperationException($"{name} is not set (bench/screenshots sets it).");
