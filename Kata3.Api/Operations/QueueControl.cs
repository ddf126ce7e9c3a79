using Kata3.Contracts;
using StackExchange.Redis;

namespace Kata3.Api.Operations;

/// <summary>Pausing and resuming the queue, per priority or whole. (Contract stub: issue 17 fills it in.)</summary>
internal sealed class QueueControl(IConnectionMultiplexer redis)
{
    /// <summary>Pauses <paramref name="priority"/> (null: every priority); returns the paused priorities.</summary>
    public Task<IReadOnlyList<string>> PauseAsync(string? priority, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Resumes <paramref name="priority"/> (null: every priority); returns the priorities still paused.</summary>
    public Task<IReadOnlyList<string>> ResumeAsync(string? priority, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Empties the poison list; returns how many entries it held.</summary>
    public async Task<long> PurgePoisonAsync()
    {
        // Length and delete in one transaction, so an entry set aside in between is counted.
        var purge = redis.GetDatabase().CreateTransaction();
        var length = purge.ListLengthAsync(QueueKeys.Poison);
        _ = purge.KeyDeleteAsync(QueueKeys.Poison);
        await purge.ExecuteAsync();
        return await length;
    }
}
