using System.Collections.Immutable;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kata3.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kata3.AppHost;

/// <summary>
/// The queue as a resource on the dashboard: its state says whether workers are taking jobs, its
/// properties are the live counts (GET /jobs/stats, polled), its commands operate the queue
/// through the API with the operator key.
/// </summary>
internal sealed class JobsResource(string name) : Resource(name), IResourceWithParent<ProjectResource>
{
    public required ProjectResource Parent { get; init; }
}

internal static class JobsResourceExtensions
{
    public const string ResourceType = "Queue";
    public const string PauseCommand = "pause";
    public const string ResumeCommand = "resume";
    public const string RequeueDeadCommand = "requeue-dead-jobs";
    public const string PurgePoisonCommand = "purge-poison";
    public const string DemoOrdersCommand = "enqueue-demo-orders";
    public const string DemoCountArgument = "count";

    public const string Running = "Running";
    public const string Paused = "Paused";
    public const string PartlyPaused = "Partly paused";
    public const string Unavailable = "Unavailable";

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Adds the <c>jobs</c> resource under <paramref name="api"/>, which it reads and operates through.</summary>
    public static IResourceBuilder<JobsResource> AddJobsResource(this IDistributedApplicationBuilder builder,
        IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> operatorKey)
    {
        var client = new QueueClient(api.Resource, operatorKey.Resource);
        return builder.AddResource(new JobsResource(ResourceNames.Jobs) { Parent = api.Resource })
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = ResourceType,
                State = new(KnownResourceStates.Waiting, KnownResourceStateStyles.Info),
                Properties = [],
            })
            .ExcludeFromManifest()
            .OnInitializeResource((resource, e, initializing) =>
            {
                // Runs for the life of the app, not of the initialization.
                var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                _ = Task.Run(() => PublishStatsAsync(resource, client, e.Notifications, e.Logger, stopping), stopping);
                return Task.CompletedTask;
            })
            .WithCommand(PauseCommand, "Pause", context => client.SendAsync(HttpMethod.Post, "/jobs/pause", "Workers take no new jobs; running ones finish.", context.CancellationToken),
                new CommandOptions
                {
                    Description = "Stop taking new jobs from every priority; running jobs finish, orders are still accepted.",
                    IconName = "Pause",
                    IsHighlighted = true,
                    // Also when the stats cannot be read (Redis down): pausing only needs PostgreSQL.
                    UpdateState = context => IsIn(context, Running, PartlyPaused, Unavailable),
                })
            .WithCommand(ResumeCommand, "Resume", context => client.SendAsync(HttpMethod.Post, "/jobs/resume", "Workers take jobs again.", context.CancellationToken),
                new CommandOptions
                {
                    Description = "Take jobs from every priority again.",
                    IconName = "Play",
                    IsHighlighted = true,
                    UpdateState = context => IsIn(context, Paused, PartlyPaused, Unavailable),
                })
            .WithCommand(RequeueDeadCommand, "Requeue dead jobs", context => client.SendAsync(HttpMethod.Post, "/jobs/dead/retry", "Dead jobs sent back to the queue.", context.CancellationToken),
                new CommandOptions
                {
                    Description = "Sends every dead job back to the queue with a fresh attempt budget.",
                    ConfirmationMessage = "Send every dead job back to the queue?",
                    IconName = "ArrowRepeatAll",
                    UpdateState = context => IsIn(context, Running, Paused, PartlyPaused),
                })
            .WithCommand(PurgePoisonCommand, "Purge poison entries", context => client.SendAsync(HttpMethod.Delete, "/jobs/poison", "Poison list emptied.", context.CancellationToken),
                new CommandOptions
                {
                    Description = "Deletes the entries set aside as not runnable (GET /jobs/poison lists them first).",
                    ConfirmationMessage = "Delete every entry in the poison list? They cannot be recovered.",
                    IconName = "Delete",
                    UpdateState = context => IsIn(context, Running, Paused, PartlyPaused),
                })
            .WithCommand(DemoOrdersCommand, "Enqueue demo orders", context =>
                {
                    var text = context.Arguments.TryGetByName(DemoCountArgument, out var input) ? input.Value : null;
                    if (!int.TryParse(text ?? "10", NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                    {
                        return Task.FromResult(CommandResults.Failure($"'{text}' is not a number of orders: give a whole number from 1 to 1000."));
                    }
                    return client.SendAsync(HttpMethod.Post, $"/jobs/demo?count={count}", $"{count} demo orders accepted: follow them on the Traces page.", context.CancellationToken);
                },
                new CommandOptions
                {
                    Description = "Posts demo orders through the API, each its own trace, to watch the queue work.",
                    IconName = "BoxMultipleArrowRight",
                    IsHighlighted = true,
                    Arguments =
                    [
                        new InteractionInput
                        {
                            Name = DemoCountArgument,
                            Label = "How many orders (1 to 1000)",
                            InputType = InputType.Number,
                            Required = true,
                            Value = "10",
                        },
                    ],
                    UpdateState = context => IsIn(context, Running, Paused, PartlyPaused),
                });
    }

    private static ResourceCommandState IsIn(UpdateCommandStateContext context, params string[] states) =>
        states.Contains(context.ResourceSnapshot.State?.Text) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static async Task PublishStatsAsync(JobsResource resource, QueueClient client, ResourceNotificationService notifications,
        ILogger logger, CancellationToken stopping)
    {
        try
        {
            await notifications.WaitForResourceHealthyAsync(ResourceNames.Api, stopping);
            using var timer = new PeriodicTimer(PollInterval);
            do
            {
                try
                {
                    var stats = await client.ReadStatsAsync(stopping);
                    await notifications.PublishUpdateAsync(resource, snapshot => snapshot with
                    {
                        State = StateOf(stats),
                        StartTimeStamp = snapshot.StartTimeStamp ?? DateTime.UtcNow,
                        Properties = PropertiesOf(stats),
                    });
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    // The API or a store is down: say so, and keep the last counts out of sight.
                    logger.LogDebug(ex, "Reading the queue's stats failed");
                    await notifications.PublishUpdateAsync(resource, snapshot => snapshot with
                    {
                        State = new(Unavailable, KnownResourceStateStyles.Warn),
                        Properties = [],
                    });
                }
            }
            while (await timer.WaitForNextTickAsync(stopping));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private static ResourceStateSnapshot StateOf(QueueStatsView stats) =>
        stats.Paused.Count == JobPriority.All.Count ? new(Paused, KnownResourceStateStyles.Warn)
        : stats.Paused.Count > 0 ? new(PartlyPaused, KnownResourceStateStyles.Warn)
        : new(Running, KnownResourceStateStyles.Success);

    private static ImmutableArray<ResourcePropertySnapshot> PropertiesOf(QueueStatsView stats)
    {
        var order = 0;
        ResourcePropertySnapshot Property(string name, string display, object value) =>
            new(name, value) { DisplayName = display, IsHighlighted = true, SortOrder = order++ };
        return
        [
            .. JobPriority.All.Select(p => Property($"jobs.ready.{p}", $"Ready ({p})", stats.Ready.GetValueOrDefault(p))),
            Property("jobs.processing", "Processing", stats.Processing),
            Property("jobs.retrying", "Waiting for a retry", stats.Retrying),
            Property("jobs.scheduled", "Scheduled", stats.Scheduled),
            Property("jobs.dead", "Dead", stats.Dead),
            Property("jobs.poison", "Poison entries", stats.Poison),
            Property("jobs.oldest-ready", "Oldest ready (s)", Math.Round(stats.OldestReadySeconds, 1)),
            Property("jobs.replicas", "Live replicas", stats.Replicas.Count(r => r.Alive)),
            Property("jobs.paused", "Paused priorities", stats.Paused.Count == 0 ? "none" : string.Join(", ", stats.Paused)),
        ];
    }

    /// <summary>The API's operator routes, called with the operator key.</summary>
    private sealed class QueueClient(ProjectResource api, ParameterResource operatorKey)
    {
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

        public async Task<QueueStatsView> ReadStatsAsync(CancellationToken cancellationToken)
        {
            using var response = await SendRequestAsync(HttpMethod.Get, "/jobs/stats", cancellationToken);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<QueueStatsView>(Json, cancellationToken))!;
        }

        public async Task<ExecuteCommandResult> SendAsync(HttpMethod method, string path, string done, CancellationToken cancellationToken)
        {
            try
            {
                using var response = await SendRequestAsync(method, path, cancellationToken);
                return response.IsSuccessStatusCode
                    ? CommandResults.Success(done)
                    : CommandResults.Failure($"The API answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            catch (HttpRequestException ex)
            {
                return CommandResults.Failure($"The API could not be reached: {ex.Message}");
            }
        }

        private async Task<HttpResponseMessage> SendRequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
        {
            var endpoint = api.GetEndpoint("http");
            using var request = new HttpRequestMessage(method, new Uri(new Uri(endpoint.Url), path));
            request.Headers.Authorization = new AuthenticationHeaderValue(OperatorAccess.AuthorizationScheme,
                await operatorKey.GetValueAsync(cancellationToken));
            return await _http.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>The part of GET /jobs/stats the resource shows.</summary>
    private sealed record QueueStatsView(Dictionary<string, long> Ready, long Processing, long Retrying, long Scheduled, long Dead,
        long Poison, double OldestReadySeconds, IReadOnlyList<string> Paused, IReadOnlyList<ReplicaView> Replicas);

    private sealed record ReplicaView(string WorkerId, bool Alive);
}
