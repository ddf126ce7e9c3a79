using System.Globalization;
using Kata3.Api.Data;
using Kata3.Api.Queue;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kata3.Api.Apis;

/// <summary>Jobs by status (dead letters above all) and sending dead jobs back to the queue.</summary>
internal static class JobsApi
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapOperatorGroup("/jobs", "Jobs");

        api.MapGet("/", ListJobsAsync);
        api.MapPost("/{jobId:guid}/retry", RetryJobAsync);
        api.MapPost("/dead/retry", RetryAllDeadAsync);
        api.MapGet("/poison", PoisonApi.ListPoisonAsync);

        return app;
    }

    /// <summary>
    /// A page of jobs in one status, of one priority or all. Pages are keyset-paginated: pass the previous page's
    /// <c>next</c> as <c>after</c>; a page costs the same at any depth.
    /// </summary>
    public static async Task<Results<Ok<JobPage>, ValidationProblem>> ListJobsAsync(
        JobAdminStore jobs, CancellationToken cancellationToken,
        string? status = null, string? priority = null, string? limit = null, string? after = null, string? page = null, string? pageSize = null)
    {
        var errors = new Dictionary<string, string[]>();
        status ??= JobStatus.Dead;
        if (!JobStatus.All.Contains(status))
            errors["status"] = [$"'status' must be one of {string.Join(", ", JobStatus.All)}."];
        if (priority is not null && !JobPriority.IsValid(priority))
            errors["priority"] = [$"'priority' must be one of {string.Join(", ", JobPriority.All)}, or absent for every priority."];
        var size = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size)
                                  || size is < 1 or > MaxPageSize))
            errors["limit"] = [$"'limit' must be a whole number from 1 to {MaxPageSize}."];
        JobCursor? cursor = null;
        if (after is not null)
        {
            if (JobCursor.TryDecode(after, out var decoded))
                cursor = decoded;
            else
                errors["after"] = ["'after' must be the 'next' value of a previous page."];
        }
        if (page is not null)
            errors["page"] = ["Pages are not numbered: pass the previous page's 'next' as 'after'."];
        if (pageSize is not null)
            errors["pageSize"] = ["Use 'limit' for the page size."];
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await jobs.ListAsync(status, priority, size, cursor, cancellationToken));
    }

    public static async Task<Results<Accepted<JobRequeued>, ProblemHttpResult>> RetryJobAsync(
        Guid jobId, JobAdminStore jobs, JobPublisher publisher, CancellationToken cancellationToken)
    {
        var requeued = await jobs.RequeueDeadAsync(jobId, cancellationToken);
        if (requeued.Count == 0)
        {
            return await jobs.GetStatusAsync(jobId, cancellationToken) is { } status
                ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Job is not dead",
                    detail: $"Job {jobId} is {status}; only dead jobs can be retried.")
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found",
                    detail: $"There is no job with id {jobId}.");
        }

        await publisher.PublishAsync(requeued[0]);
        return TypedResults.Accepted($"/orders/{requeued[0].OrderId}", new JobRequeued(jobId, requeued[0].OrderId, JobStatus.Queued));
    }

    public static async Task<Ok<DeadJobsRequeued>> RetryAllDeadAsync(
        JobAdminStore jobs, JobPublisher publisher, CancellationToken cancellationToken)
    {
        var requeued = await jobs.RequeueDeadAsync(jobId: null, cancellationToken);
        await publisher.PublishAsync(requeued);
        return TypedResults.Ok(new DeadJobsRequeued(requeued.Count));
    }
}

public sealed record JobSummary(Guid JobId, Guid OrderId, string Status, int Attempts, string? Error, DateTimeOffset UpdatedAt, string Priority);
/// <param name="Next">The <c>after</c> of the next page; null on the last page.</param>
public sealed record JobPage(IReadOnlyList<JobSummary> Items, string? Next);
public sealed record JobRequeued(Guid JobId, Guid OrderId, string Status);
public sealed record DeadJobsRequeued(int Requeued);
