using Kata3.Api.Apis;
using Kata3.Api.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Kata3.Api.JobsUi.Pages;

/// <summary>One job: its order, state, every attempt with its outcome and error, and its trace in the dashboard.</summary>
internal sealed class JobModel(JobsUiStore store, OrderStore orders, JobActions actions, IOptions<JobsUiOptions> options) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid JobId { get; set; }

    public OrderDetails Order { get; private set; } = null!;
    public JobDetails Job { get; private set; } = null!;
    public string? TraceId { get; private set; }

    /// <summary>The trace's page in the Aspire dashboard, when JobsUi:DashboardUrl is set and the job has a trace.</summary>
    public string? TraceUrl => options.Value.DashboardUrl is { } dashboard && TraceId is { } traceId
        ? $"{dashboard.ToString().TrimEnd('/')}/traces/detail/{traceId}"
        : null;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await store.FindAsync(JobId, cancellationToken) is not { } origin
            || await orders.GetAsync(origin.OrderId, cancellationToken) is not { Job: { } job } order)
        {
            return NotFound();
        }
        (Order, Job, TraceId) = (order, job, origin.TraceId);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.RetryAsync(JobId, cancellationToken));
        return Redirect(JobsUiPaths.Job(JobId));
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.CancelAsync(orderId, cancellationToken));
        return Redirect(JobsUiPaths.Job(JobId));
    }
}
