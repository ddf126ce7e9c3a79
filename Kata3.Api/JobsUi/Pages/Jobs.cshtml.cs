using Kata3.Api.Apis;
using Kata3.Api.Data;
using Kata3.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Kata3.Api.JobsUi.Pages;

/// <summary>Jobs in one status, optionally of one priority, a page at a time (keyset: "Next page" carries the cursor).</summary>
internal sealed class JobsModel(JobAdminStore jobs, JobActions actions) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)]
    public string Status { get; set; } = JobStatus.Dead;

    [BindProperty(SupportsGet = true)]
    public string? Priority { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? After { get; set; }

    public JobPage Found { get; private set; } = new([], null);
    public List<string> Errors { get; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Priority = string.IsNullOrEmpty(Priority) ? null : Priority;
        if (!JobStatus.All.Contains(Status))
            Errors.Add($"'status' must be one of {string.Join(", ", JobStatus.All)}.");
        if (Priority is not null && !JobPriority.IsValid(Priority))
            Errors.Add($"'priority' must be one of {string.Join(", ", JobPriority.All)}, or empty for all.");
        JobCursor? cursor = null;
        if (!string.IsNullOrEmpty(After))
        {
            if (JobCursor.TryDecode(After, out var decoded))
                cursor = decoded;
            else
                Errors.Add("'after' must be the cursor of a previous page's \"Next page\" link.");
        }
        if (Errors.Count > 0)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Found = await jobs.ListAsync(Status, Priority, PageSize, cursor, cancellationToken);
    }

    public async Task<IActionResult> OnPostRetryAsync(Guid jobId, CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.RetryAsync(jobId, cancellationToken));
        return BackToList();
    }

    public async Task<IActionResult> OnPostRetryAllAsync(CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.RetryAllDeadAsync(cancellationToken));
        return BackToList();
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.CancelAsync(orderId, cancellationToken));
        return BackToList();
    }

    /// <summary>The link to this list with other filters (null keeps the current value; "" clears it).</summary>
    public string Link(string? status = null, string? priority = null, string? after = null)
    {
        List<KeyValuePair<string, string?>> query = [new("status", status ?? Status)];
        if ((priority ?? Priority) is { Length: > 0 } onePriority)
            query.Add(new("priority", onePriority));
        if (!string.IsNullOrEmpty(after))
            query.Add(new("after", after));
        return JobsUiPaths.Jobs + QueryString.Create(query);
    }

    private RedirectResult BackToList() => Redirect(Link(after: After));
}
