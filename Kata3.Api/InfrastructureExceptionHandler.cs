using Microsoft.AspNetCore.Diagnostics;

namespace Kata3.Api;

/// <summary>
/// Turns an unreachable PostgreSQL or Redis into 503 Service Unavailable with Retry-After (the
/// client may safely try again, which a 500 would not tell it), and data PostgreSQL refuses for
/// good (a constraint or trigger) into 422 (the same request will never succeed).
/// </summary>
internal sealed class InfrastructureExceptionHandler(
    IProblemDetailsService problemDetails, DatabasePools pools, ILogger<InfrastructureExceptionHandler> logger)
    : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (StoreFaults.IsRefusal(exception))
        {
            // The server's message may name internals: it goes to the log, not to the client.
            logger.LogWarning("PostgreSQL refused {Method} {Path}: {Error}",
                httpContext.Request.Method, httpContext.Request.Path, exception.Message);
            httpContext.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails =
                {
                    Status = StatusCodes.Status422UnprocessableEntity,
                    Title = "The order store refused this request",
                    Detail = "PostgreSQL refused the data of this request (a constraint or rule); nothing was written. Sending it again will not help.",
                },
            });
        }
        if (!StoreFaults.IsOutage(exception))
        {
            return false;
        }

        pools.ClearIfConnectionLost(exception);
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
