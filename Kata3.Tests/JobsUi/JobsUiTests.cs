using System.Net;
using System.Text.RegularExpressions;
using Kata3.Contracts;
using Kata3.Queue;
using Kata3.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kata3.Tests.JobsUi;

/// <summary>The jobs UI in a real browser (headless Chromium): sign-in, the overview, lists, a job's page and its actions.</summary>
[Collection(JobsUiCollection.Name)]
public sealed class JobsUiTests(JobsUiApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnonymousPagesRedirectToLoginWhileTheApiStillAnswers401()
    {
        var page = await app.NewPageAsync();
        var login = await page.GotoAsync("/ui/jobs?status=dead");
        Assert.Equal("/ui/login", new Uri(page.Url).AbsolutePath);
        // The UI's own policy: its stylesheet and forms, no scripts; the API keeps default-src 'none'.
        var policy = await login!.HeaderValueAsync("content-security-policy");
        Assert.Contains("style-src 'self'", policy);
        Assert.Contains("form-action 'self'", policy);
        Assert.DoesNotContain("script-src", policy);
        Assert.Contains("returnUrl=%2Fui%2Fjobs", page.Url);

        using var api = await app.Anonymous.GetAsync("/jobs/stats");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", api.Headers.GetValues("Content-Security-Policy").Single());

        // Signing in from there lands on the page that was asked for.
        await page.GetByLabel("Operator key").FillAsync(app.OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/jobs");
        Assert.Equal("Jobs: dead", await page.Locator("h1").InnerTextAsync());
    }

    [Fact]
    public async Task WrongKeyIsRefusedAndTheRightOneShowsCountsThatMatchTheDatabase()
    {
        var accepted = await app.PostAcceptedOrderAsync(new { product = "ui-count", quantity = 1, price = 2.5m, priority = "high" });
        await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");

        var page = await app.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.GetByLabel("Operator key").FillAsync(new string('x', app.OperatorKey.Length));
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(401, refused.Status);
        Assert.Equal("That is not the operator key.", await page.GetByRole(AriaRole.Alert).InnerTextAsync());
        Assert.Empty(await page.GetByLabel("Operator key").InputValueAsync()); // not echoed back
        await page.GotoAsync("/ui");
        Assert.Equal("/ui/login", new Uri(page.Url).AbsolutePath);

        page = await app.SignedInPageAsync();
        Assert.Equal("Queue overview", await page.Locator("h1").InnerTextAsync());
        // The stylesheet arrived through the UI's Content-Security-Policy.
        Assert.Equal("rgb(246, 247, 249)", await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));

        // Nothing else runs in this app meanwhile; a reload may still race a finishing job, so compare until they agree.
        string mismatch = "";
        await Eventually.Async(async () =>
        {
            await page.ReloadAsync();
            var database = await CountsAsync();
            mismatch = "";
            foreach (var status in JobStatus.All)
            {
                foreach (var priority in JobPriority.All)
                {
                    var shown = await page.Locator($"#count-{status}-{priority}").InnerTextAsync();
                    var expected = database.GetValueOrDefault((status, priority)).ToString("N0");
                    if (shown != expected) mismatch += $"{status}/{priority}: page {shown}, database {expected}; ";
                }
            }
            return mismatch == "" && await page.Locator("#count-total").InnerTextAsync() == database.Values.Sum().ToString("N0");
        }, Timeout, () => mismatch);
        Assert.NotEqual("0", await page.Locator("#count-completed-high").InnerTextAsync());

        // The live part: the one replica, alive, and a row per minute of throughput.
        var replica = page.Locator("#replicas tbody tr");
        Assert.Equal(1, await replica.CountAsync());
        Assert.Equal("alive", await replica.Locator(".badge").InnerTextAsync());
        Assert.Equal(Kata3.Api.JobsUi.Pages.IndexModel.ThroughputMinutes, await page.Locator("#throughput tbody tr").CountAsync());
    }

    [Fact]
    public async Task DeadJobIsListedAndItsRetryButtonReachedByKeyboardRequeuesIt()
    {
        var accepted = await DeadOrderAsync("ui-dead");

        // Keyboard only: Tab to the key field, type, Enter; then Tab to the job's Retry button, Enter.
        var page = await app.NewPageAsync();
        await page.GotoAsync("/ui/login?returnUrl=%2Fui%2Fjobs%3Fstatus%3Ddead");
        await page.Locator("body").FocusAsync();
        await page.TabToAsync("#key");
        await page.Keyboard.TypeAsync(app.OperatorKey);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/jobs");

        var row = page.Locator($"#job-{accepted.JobId}");
        Assert.Equal("dead", await row.Locator(".badge").InnerTextAsync());
        Assert.False(string.IsNullOrWhiteSpace(await row.Locator("td.error").InnerTextAsync()));
        await page.TabToAsync($"#job-{accepted.JobId} button");
        Assert.Equal("Retry", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/jobs" && url.Contains("status=dead"));
        Assert.Contains("is queued again", await page.GetByRole(AriaRole.Status).First.InnerTextAsync());

        var completed = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed", "failed");
        Assert.True(completed.Job!.Status == JobStatus.Completed, completed.Describe());
        await page.ReloadAsync();
        Assert.Equal(0, await page.Locator($"#job-{accepted.JobId}").CountAsync());
    }

    [Fact]
    public async Task JobPageShowsItsAttemptsAndLinksToItsTrace()
    {
        var accepted = await DeadOrderAsync("ui-job-page");
        var page = await app.SignedInPageAsync();

        await page.GotoAsync($"/ui/jobs/{accepted.JobId}");
        Assert.Equal("dead", await page.Locator("#job-status").InnerTextAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry this job" }).ClickAsync();
        await app.WaitForOrderAsync(accepted.OrderId, Timeout, "completed");

        await page.ReloadAsync();
        var outcomes = await page.Locator("#attempts tbody tr .badge").AllInnerTextsAsync();
        Assert.Equal(["dead", "completed"], outcomes);
        var errors = await page.Locator("#attempts tbody tr td.error").AllInnerTextsAsync();
        Assert.False(string.IsNullOrWhiteSpace(errors[0]), "the dead attempt shows its error");
        Assert.NotNull(accepted.TraceId);
        Assert.NotNull(app.DashboardUrl);
        Assert.Equal($"{app.DashboardUrl}/traces/detail/{accepted.TraceId}",
            await page.Locator("#trace-link").GetAttributeAsync("href"));

        var missing = await page.GotoAsync($"/ui/jobs/{Guid.NewGuid()}");
        Assert.Equal(404, missing!.Status);
    }

    [Fact]
    public async Task RunningJobIsCancelledFromItsPage()
    {
        // "hang": the attempt runs until something cancels it.
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order("ui-cancel"),
            (FailureSimulationOptions.HeaderName, FailureSimulationOptions.HangValue));
        await Eventually.Async(async () => (await app.GetOrderAsync(accepted.OrderId)).Job!.Status == JobStatus.Processing,
            Timeout, () => $"job {accepted.JobId} never started");
        var page = await app.SignedInPageAsync();
        await page.GotoAsync($"/ui/jobs?status={JobStatus.Processing}");
        Assert.Equal(1, await page.Locator($"#job-{accepted.JobId}").CountAsync());

        await page.GotoAsync($"/ui/jobs/{accepted.JobId}");
        Assert.Equal(JobStatus.Processing, await page.Locator("#job-status").InnerTextAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel this order" }).ClickAsync();
        Assert.Contains("asked to stop it", await page.GetByRole(AriaRole.Status).First.InnerTextAsync());

        await app.WaitForOrderAsync(accepted.OrderId, Timeout, OrderStatus.Cancelled);
        await page.ReloadAsync();
        Assert.Equal(JobStatus.Cancelled, await page.Locator("#job-status").InnerTextAsync());
        Assert.Equal(AttemptOutcome.Cancelled, await page.Locator("#attempts tbody tr .badge").Last.InnerTextAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Cancel this order" }).CountAsync());
    }

    [Fact]
    public async Task PauseAndResumeButtonsChangeTheRecordedPauses()
    {
        var page = await app.SignedInPageAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause low" }).ClickAsync();
        Assert.Equal("paused", await page.Locator("#state-low").InnerTextAsync());
        Assert.Equal(["low"], await PausedAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause the whole queue" }).ClickAsync();
        Assert.Contains("The whole queue is paused.", await page.GetByRole(AriaRole.Status).First.InnerTextAsync());
        Assert.Equal(JobPriority.All, await PausedAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume the whole queue" }).ClickAsync();
        Assert.Equal("running", await page.Locator("#state-low").InnerTextAsync());
        Assert.Empty(await PausedAsync());
    }

    [Fact]
    public async Task NextPageLinkWalksEveryJobOfAStatusAndPriorityOnce()
    {
        // More low-priority jobs than a page holds; only this test posts low-priority orders.
        var accepted = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            app.PostAcceptedOrderAsync(new { product = $"ui-page-{i}", quantity = 1, price = 1m, priority = "low" })));
        foreach (var a in accepted)
        {
            await app.WaitForOrderAsync(a.OrderId, Timeout, "completed");
        }
        var page = await app.SignedInPageAsync();
        await page.GotoAsync("/ui/jobs");
        await page.GetByLabel("Status").SelectOptionAsync("completed");
        await page.GetByLabel("Priority").SelectOptionAsync("low");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("status=completed&priority=low"));

        var seen = new List<string>();
        var pages = 0;
        while (true)
        {
            pages++;
            var ids = await page.Locator("#jobs tbody th code").AllInnerTextsAsync();
            Assert.InRange(ids.Count, 1, 25);
            Assert.All(await page.Locator("#jobs tbody td:nth-child(3)").AllInnerTextsAsync(), p => Assert.Equal("low", p));
            seen.AddRange(ids);
            var next = page.Locator("#next-page");
            if (await next.CountAsync() == 0) break;
            await next.ClickAsync();
            await page.WaitForURLAsync(new Regex("after="));
        }
        output.WriteLine($"{seen.Count} jobs on {pages} pages");
        Assert.True(pages >= 2, $"{pages} page(s)");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), accepted.Select(a => a.JobId.ToString()).ToHashSet());

        // A bad filter is named, in the UI and in the API.
        var bad = await page.GotoAsync("/ui/jobs?status=lost&priority=urgent");
        Assert.Equal(400, bad!.Status);
        var alert = await page.GetByRole(AriaRole.Alert).InnerTextAsync();
        Assert.Contains("'status'", alert);
        Assert.Contains("'priority'", alert);
        using var api = await app.Api.GetAsync("/jobs?status=completed&priority=urgent");
        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Contains("\"priority\"", await api.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostsWithoutAnAntiforgeryTokenAreRefused()
    {
        var accepted = await DeadOrderAsync("ui-forged");
        var page = await app.SignedInPageAsync();

        // The browser's own cookies (signed in), but a form that did not come from the UI.
        var forged = await page.Context.APIRequest.PostAsync($"/ui/jobs?handler=Retry&status=dead",
            new() { Form = page.Context.APIRequest.CreateFormData().Set("jobId", accepted.JobId.ToString()) });
        Assert.Equal(400, forged.Status);
        Assert.Equal(JobStatus.Dead, (await app.GetOrderAsync(accepted.OrderId)).Job!.Status);

        // The sign-in cookie, sent by hand to the JSON API (which has no antiforgery), opens nothing there.
        var cookies = await page.Context.CookiesAsync();
        Assert.NotEmpty(cookies);
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/jobs/{accepted.JobId}/retry"))
        {
            request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}")));
            using var withCookie = await app.Anonymous.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, withCookie.StatusCode);
        }
        Assert.Equal(JobStatus.Dead, (await app.GetOrderAsync(accepted.OrderId)).Job!.Status);

        // Signed out, the same post is not let in at all.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/login");
        await page.GotoAsync("/ui");
        Assert.Equal("/ui/login", new Uri(page.Url).AbsolutePath);
    }

    /// <summary>
    /// The overview as docs/images/jobs-ui.png shows it (1200x800), from a queue with some history:
    /// KATA3_SCREENSHOT_DIR=docs/images saves it there, else next to the tests.
    /// </summary>
    [Fact]
    public async Task OverviewScreenshotShowsARealisticQueue()
    {
        await DeadOrderAsync("ui-shot-dead");
        var accepted = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => app.PostAcceptedOrderAsync(
            new { product = $"ui-shot-{i}", quantity = 1 + i, price = 4.5m, priority = JobPriority.All[i % 3] })));
        foreach (var a in accepted)
        {
            await app.WaitForOrderAsync(a.OrderId, Timeout, "completed");
        }
        var page = await app.SignedInPageAsync();
        var path = Path.GetFullPath(Path.Combine(Environment.GetEnvironmentVariable("KATA3_SCREENSHOT_DIR") ?? AppContext.BaseDirectory, "jobs-ui.png"));
        await page.ScreenshotAsync(new() { Path = path, FullPage = false });
        output.WriteLine($"screenshot: {path}");
        Assert.True(new FileInfo(path).Length > 10_000, "a screenshot of a rendered page");
        Assert.NotEqual("0", await page.Locator("#count-dead").InnerTextAsync());
    }

    /// <summary>An order whose job failed for good (the failure simulation's permanent error) and is dead.</summary>
    private async Task<OrderAcceptedBody> DeadOrderAsync(string product)
    {
        var accepted = await app.PostAcceptedOrderAsync(OrderRequests.Order(product),
            (FailureSimulationOptions.HeaderName, FailureSimulationOptions.PermanentValue));
        var dead = await app.WaitForOrderAsync(accepted.OrderId, Timeout, "failed", "completed");
        Assert.True(dead.Job!.Status == JobStatus.Dead, dead.Describe());
        return accepted;
    }

    // The record the API writes, read as the services read it.
    private Task<IReadOnlyList<string>> PausedAsync() => QueuePauses.ReadAsync(app.Database, CancellationToken.None);

    private async Task<Dictionary<(string, string), long>> CountsAsync()
    {
        await using var command = app.Database.CreateCommand("""
            SELECT status, priority, count(*) FROM jobs
            WHERE status <> 'completed' OR completed_at > now() - interval '24 hours'
            GROUP BY 1, 2
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<(string, string), long>();
        while (await reader.ReadAsync())
        {
            counts[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        }
        return counts;
    }
}
