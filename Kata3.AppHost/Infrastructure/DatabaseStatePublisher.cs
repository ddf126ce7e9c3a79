namespace Kata3.AppHost.Infrastructure;

/// <summary>
/// Publishes the state of a database under a local PostgreSQL server. Aspire copies state only to
/// children of containers; without this the database would stay stateless and WaitFor on it would
/// hang forever. The database follows the server, except that it turns Running only once it has
/// been created: its health check then starts against a database that exists.
/// </summary>
internal sealed class DatabaseStatePublisher(IResource server, IResource database)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ResourceStateSnapshot? _serverState;
    private bool _created;

    /// <summary>Follows the server's state changes until <paramref name="cancellationToken"/> fires.</summary>
    public async Task FollowServerAsync(ResourceNotificationService notifications, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ReferenceEquals(update.Resource, server) && update.Snapshot.State?.Text != _serverState?.Text)
                {
                    await PublishAsync(notifications, update.Snapshot.State, created: null).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The app has stopped.
        }
    }

    /// <summary>Called once CREATE DATABASE has succeeded (or found the database already there).</summary>
    public Task MarkCreatedAsync(ResourceNotificationService notifications) =>
        PublishAsync(notifications, serverState: null, created: true);

    private async Task PublishAsync(ResourceNotificationService notifications, ResourceStateSnapshot? serverState, bool? created)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (serverState is not null)
            {
                _serverState = serverState;
                _created &= serverState.Text == KnownResourceStates.Running; // a restarted server is checked again
            }

            _created = created ?? _created;
            var state = _serverState?.Text == KnownResourceStates.Running && !_created
                ? new ResourceStateSnapshot(KnownResourceStates.Starting, KnownResourceStateStyles.Info)
                : _serverState;

            await notifications.PublishUpdateAsync(database, current => current with
            {
                State = state,
                StartTimeStamp = state?.Text == KnownResourceStates.Running ? DateTime.UtcNow : current.StartTimeStamp,
                StopTimeStamp = state?.Text is { } text && KnownResourceStates.TerminalStates.Contains(text) ? DateTime.UtcNow : null,
            }).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
