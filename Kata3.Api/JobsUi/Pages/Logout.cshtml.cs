using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Kata3.Api.JobsUi.Pages;

/// <summary>Signs out by POST only (with its antiforgery token), so no link on another site can.</summary>
internal sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => Redirect(JobsUiPaths.Root);

    public async Task<IActionResult> OnPostAsync()
    {
        await OperatorCookie.SignOutAsync(HttpContext);
        return Redirect(JobsUiPaths.Login);
    }
}
