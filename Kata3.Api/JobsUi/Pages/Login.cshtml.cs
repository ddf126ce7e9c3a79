using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Kata3.Api.JobsUi.Pages;

/// <summary>Trades the operator key for the UI's cookie. The key is never echoed back nor logged.</summary>
internal sealed class LoginModel(ILogger<LoginModel> logger) : PageModel
{
    [BindProperty]
    public string? Key { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Refused { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await OperatorCookie.TrySignInAsync(HttpContext, Key))
        {
            logger.LogWarning("Jobs UI sign-in refused for {Client}: wrong operator key.", HttpContext.Connection.RemoteIpAddress);
            Refused = true;
            Key = null;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        // Only back into the UI: a return URL elsewhere would make this page an open redirect.
        return LocalRedirect(ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith(JobsUiPaths.Root, StringComparison.Ordinal)
            ? url
            : JobsUiPaths.Root);
    }
}
