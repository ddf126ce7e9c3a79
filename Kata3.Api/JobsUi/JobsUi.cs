using Kata3.Contracts;

namespace Kata3.Api.JobsUi;

/// <summary>Where the jobs UI lives; pages build their links from these.</summary>
internal static class JobsUiPaths
{
    public const string Root = "/ui";
    public const string Login = "/ui/login";
    public const string Jobs = "/ui/jobs";

    /// <summary>
    /// The UI's Content-Security-Policy: its own stylesheet and forms, nothing else (no scripts at all).
    /// The API's answers keep the stricter default-src 'none'.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static string Job(Guid jobId) => $"{Jobs}/{jobId}";
}

/// <summary>The jobs UI's settings, section "JobsUi".</summary>
public sealed class JobsUiOptions
{
    public const string SectionName = "JobsUi";

    /// <summary>The Aspire dashboard's address: a job page links to its trace there. None: no link.</summary>
    public Uri? DashboardUrl { get; set; }
}

internal static class JobsUiExtensions
{
    /// <summary>The operators' web UI (Razor Pages under /ui, in JobsUi/Pages): sign-in, overview, lists, job pages.</summary>
    public static IHostApplicationBuilder AddJobsUi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(options =>
        {
            options.RootDirectory = "/JobsUi/Pages";
            options.Conventions.AuthorizeFolder("/", OperatorAccess.Policy);
            options.Conventions.AllowAnonymousToPage("/Login");
        });
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "kata3-antiforgery";
            options.Cookie.Path = JobsUiPaths.Root;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        builder.Services.AddOptions<JobsUiOptions>().BindConfiguration(JobsUiOptions.SectionName);
        builder.Services.AddSingleton<JobsUiStore>();
        builder.Services.AddSingleton<JobActions>();
        return builder;
    }

    public static WebApplication MapJobsUi(this WebApplication app)
    {
        app.MapStaticAssets(); // the UI's stylesheet (wwwroot/ui)
        app.MapRazorPages().RequireRateLimiting(ClientRateLimiting.PolicyName);
        return app;
    }
}
