using Kata3.Api.Operations;
using Kata3.Contracts;
using Kata3.Queue;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Kata3.Api.JobsUi.Pages;

/// <summary>
/// The overview: every job counted by status and priority (PostgreSQL), the live queue (Redis and
/// the replicas), throughput over the last minutes, and pause, resume and requeue-dead buttons.
/// </summary>
internal sealed class IndexModel(
    JobsUiStore store, QueueStatsReader statsReader, JobActions actions, NpgsqlDataSource dataSource, ILogger<IndexModel> logger)
    : PageModel
{
    public const int ThroughputMinutes = 10;

    public JobCounts Counts { get; private set; } = new(new Dictionary<(string, string), long>());
    public IReadOnlyList<string> Paused { get; private set; } = [];
    public QueueStats? Stats { get; private set; }
    public IReadOnlyList<ThroughputMinute> Throughput { get; private set; } = [];
    public DateTimeOffset At { get; } = DateTimeOffset.UtcNow;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Counts = await store.CountAsync(cancellationToken);
        Paused = await QueuePauses.ReadAsync(dataSource, cancellationToken);
        try
        {
            Stats = await statsReader.ReadAsync(cancellationToken);
            Throughput = await statsReader.ReadThroughputAsync(ThroughputMinutes, cancellationToken);
        }
        // The counts above stand on their own: with Redis out of reach the page shows them and
        // says the live figures are missing, rather than failing whole.
        catch (Exception ex) when (StoreFaults.IsOutage(ex))
        {
            logger.LogWarning("The jobs UI shows no live queue figures: {Error}", ex.Message);
        }
    }

    public Task<IActionResult> OnPostPauseAsync(string? priority, CancellationToken cancellationToken) =>
        ActAsync(priority, p => actions.PauseAsync(p, cancellationToken));

    public Task<IActionResult> OnPostResumeAsync(string? priority, CancellationToken cancellationToken) =>
        ActAsync(priority, p => actions.ResumeAsync(p, cancellationToken));

    public async Task<IActionResult> OnPostRequeueDeadAsync(CancellationToken cancellationToken)
    {
        TempData.Keep(await actions.RetryAllDeadAsync(cancellationToken));
        return RedirectToPage();
    }

    private async Task<IActionResult> ActAsync(string? priority, Func<string?, Task<ActionOutcome>> act)
    {
        // An empty value is the "all priorities" button.
        priority = string.IsNullOrEmpty(priority) ? null : priority;
        TempData.Keep(priority is null || JobPriority.IsValid(priority)
            ? await act(priority)
            : new ActionOutcome(false, $"'priority' must be one of {string.Join(", ", JobPriority.All)}, or empty for all."));
        return RedirectToPage();
    }
}
