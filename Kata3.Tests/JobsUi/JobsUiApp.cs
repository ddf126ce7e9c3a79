using Kata3.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Kata3.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Kata3.Tests.JobsUi;

/// <summary>One replica and short jobs, and one headless Chromium for the whole class.</summary>
public sealed class JobsUiApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300)), IAsyncLifetime
{
    /// <summary>
    /// The dashboard address the AppHost gives the UI for trace links: its own first URL (the
    /// testing builder sets one, though no dashboard runs).
    /// </summary>
    public string? DashboardUrl => App.Services.GetRequiredService<IConfiguration>()["ASPNETCORE_URLS"]?
        .Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.TrimEnd('/');

    private Browser? _browser;

    public Browser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    /// <summary>The API's address, as a browser reaches it.</summary>
    public Uri ApiUrl => App.GetEndpoint(ResourceNames.Api, "http");

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        _browser = await Browser.LaunchAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        await DisposeAsync();
    }

    /// <summary>A new browser (own cookies) on the UI's login page, not signed in.</summary>
    public async Task<IPage> NewPageAsync() => await Browser.NewPageAsync(ApiUrl);

    /// <summary>A new browser signed in through the login form.</summary>
    public async Task<IPage> SignedInPageAsync()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.GetByLabel("Operator key").FillAsync(OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui");
        return page;
    }
}

[CollectionDefinition(Name), StartsFirst]
public sealed class JobsUiCollection : ICollectionFixture<JobsUiApp>
{
    public const string Name = "Jobs UI";
}
