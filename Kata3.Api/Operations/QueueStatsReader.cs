namespace Kata3.Api.Operations;

/// <summary>Reads <see cref="QueueStats"/> and recent throughput. (Contract stub: issue 17 fills it in.)</summary>
internal sealed class QueueStatsReader
{
    public Task<QueueStats> ReadAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Jobs finished per minute over the last <paramref name="minutes"/> minutes, oldest first, empty minutes included.</summary>
    public Task<IReadOnlyList<ThroughputMinute>> ReadThroughputAsync(int minutes, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
