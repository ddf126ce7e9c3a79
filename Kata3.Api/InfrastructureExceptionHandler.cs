using Microsoft.AspNetCore.Diagnostics;

namespace Kata3.Api;

/// <summary>
/// Turns an unreachable PostgreSQL or Redis into 503 Service Unavailable with Retry-After:
/// the client may safely try again, which a 500 would not tell it.
/// </summary>
internal sealed class InfrastructureExceptionHandler(IProblemDetailsService problemDetails, ILogger<InfrastructureExceptionHandler> logger)
    : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFaults.IsOutage(exception))
        {
            return false;
        }

        logger.LogWarning("Storage unavailable for {Method} {Path}: {Error}",
            httpContext.Request.Method, httpContext.Request.Path, exception.Message);

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Storage is unavailable",
                Detail = $"The order store cannot be reached right now; nothing was written. Retry in {RetryAfterSeconds} s.",
            },
        });
    }
}
