using System.Diagnostics;
using System.Threading.Channels;

namespace Kata3.Batching;

/// <summary>
/// Group commit: many callers' writes done as one statement. Each caller submits its item and
/// awaits its own result; a writer loop takes whatever has queued up meanwhile (at most
/// <c>maxBatch</c>) and writes it in one round trip. There is no timer: under light load a
/// batch is one item and costs nothing extra; under load batches grow by themselves, so the
/// commit rate stops bounding the item rate. A caller's result arrives only after its batch
/// has committed, so batching weakens no guarantee. A write must be all or nothing (one
/// statement or transaction), since a failed batch is written again, whole or item by item.
/// </summary>
public sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> _write;
    private readonly int _maxBatch;
    private readonly string _name;
    private readonly Task[] _writers;

    private const int MaxConflictAttempts = 3;

    /// <param name="name">Names the batch's span when several callers' writes share it.</param>
    /// <param name="write">Writes a batch; returns one result per item, in order.</param>
    /// <param name="maxBatch">Most items in one statement.</param>
    /// <param name="writers">Statements in flight at once (each on its own connection).</param>
    public GroupCommit(string name, Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> write,
        int maxBatch = 256, int writers = 2)
    {
        _name = name;
        _write = write;
        _maxBatch = maxBatch;
        // The writers belong to no caller: with the creator's context they would keep the Activity of
        // whichever request created the store, and make every batch's span a child of that stopped one.
        using (ExecutionContext.SuppressFlow())
        {
            _writers = Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
        }
    }

    public Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken)
    {
        // Continuations run inline on the writer, sparing each caller a wake-up of another pool
        // thread; callers never block on a write, so each holds the writer only until its next await.
        var pending = new Pending(item, Activity.Current, new());
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(GroupCommit<TItem, TResult>));
        }
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _pending.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            if (batch.Count == 0)
            {
                continue;
            }

            // One caller: its write stays inside its own trace. Several: one span linked to each.
            var previous = Activity.Current;
            using var activity = batch.Count == 1 ? null : Kata3Telemetry.ActivitySource.StartActivity(
                _name, ActivityKind.Internal, parentContext: default,
                links: batch.Where(p => p.Activity is not null).Select(p => new ActivityLink(p.Activity!.Context)));
            if (batch.Count == 1)
            {
                Activity.Current = batch[0].Activity;
            }
            activity?.SetTag(Kata3Telemetry.BatchSizeTag, batch.Count);
            try
            {
                await WriteAsync(batch);
            }
            finally
            {
                Activity.Current = previous;
            }
        }
    }

    /// <summary>
    /// Writes a batch and hands each caller its result. A batch fails as a whole only in an outage;
    /// any other failure may be one member's (data the store refuses), so each member is then
    /// written alone and only the faulty one fails.
    /// </summary>
    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            var results = await WriteWithRetriesAsync(batch.Select(p => p.Item).ToList());
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception ex) when (batch.Count > 1 && !StoreFaults.IsOutage(ex))
        {
            foreach (var pending in batch)
            {
                try
                {
                    pending.Done.TrySetResult((await WriteWithRetriesAsync([pending.Item]))[0]);
                }
                catch (Exception alone)
                {
                    pending.Done.TrySetException(alone);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }
        }
    }

    // A deadlock or serialization failure rolled the statement back; it may simply run again.
    private async Task<IReadOnlyList<TResult>> WriteWithRetriesAsync(IReadOnlyList<TItem> items)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await _write(items, CancellationToken.None);
            }
            catch (Exception ex) when (attempt < MaxConflictAttempts && StoreFaults.IsConflict(ex))
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    private sealed record Pending(TItem Item, Activity? Activity, TaskCompletionSource<TResult> Done);
}
