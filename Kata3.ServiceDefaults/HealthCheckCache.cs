using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kata3;

/// <summary>
/// Runs each health check at most once per <see cref="Interval"/>, however many callers ask:
/// /health is reachable from outside, and each run of the PostgreSQL and Redis checks is a round
/// trip to them. Callers within the interval share the last (or the running) result.
/// </summary>
internal sealed class HealthCheckCache
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, (long Expires, Task<HealthCheckResult> Result)> _results = new();

    public Task<HealthCheckResult> GetOrRunAsync(string name, Func<Task<HealthCheckResult>> run)
    {
        var now = Environment.TickCount64;
        if (_results.TryGetValue(name, out var cached) && cached.Expires > now)
        {
            return cached.Result;
        }
        var fresh = (now + (long)Interval.TotalMilliseconds, run());
        // Another caller may have started one meanwhile; either result is as fresh.
        _results[name] = fresh;
        return fresh.Item2;
    }

    /// <summary>Wraps every registered check so that it runs through the cache.</summary>
    public static void Apply(IServiceCollection services)
    {
        services.AddSingleton<HealthCheckCache>();
        services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations)
            {
                var factory = registration.Factory;
                var name = registration.Name;
                registration.Factory = provider => new CachedCheck(factory(provider), name, provider.GetRequiredService<HealthCheckCache>());
            }
        });
    }

    private sealed class CachedCheck(IHealthCheck inner, string name, HealthCheckCache cache) : IHealthCheck
    {
        // The shared run does not take the first caller's token: its cancellation must not fail the others.
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            cache.GetOrRunAsync(name, () => inner.CheckHealthAsync(context, CancellationToken.None)).WaitAsync(cancellationToken);
    }
}
