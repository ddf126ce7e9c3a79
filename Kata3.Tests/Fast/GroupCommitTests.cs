using System.Diagnostics;
using Kata3.Batching;
using Npgsql;
using StackExchange.Redis;

namespace Kata3.Tests.Fast;

/// <summary>
/// GroupCommit against a fake store whose first write can be held open, so that what queues up
/// behind it, and so what the next batch holds, is decided by the test rather than by timing.
/// </summary>
[Trait("Category", "Fast")]
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SubmissionsWaitingForAWriteShareTheNextBatch()
    {
        var store = new FakeStore();
        await using var commit = store.Open();

        var (first, rest) = await store.QueueBehindHeldWriteAsync(commit, 1, 2, 3, 4, 5);

        Assert.Equal(0, await first.WaitAsync(Timeout));
        Assert.Equal(new[] { 10, 20, 30, 40, 50 }, await Task.WhenAll(rest).WaitAsync(Timeout));
        Assert.Equal("0 | 1,2,3,4,5", store.Batches);
    }

    [Fact]
    public async Task BatchHoldsAtMostMaxBatchItems()
    {
        var store = new FakeStore();
        await using var commit = store.Open(maxBatch: 2);

        var (first, rest) = await store.QueueBehindHeldWriteAsync(commit, 1, 2, 3, 4, 5);

        await Task.WhenAll([first, .. rest]).WaitAsync(Timeout);
        Assert.Equal("0 | 1,2 | 3,4 | 5", store.Batches);
    }

    [Fact]
    public async Task ConcurrentCallersEachGetTheirOwnResultAndEachItemIsWrittenOnce()
    {
        var store = new FakeStore();
        await using var commit = store.Open(writers: 2);

        var first = await store.HoldFirstWriteAsync(commit, 0);
        var submitted = await Task.WhenAll(Enumerable.Range(1, 100).Select(i => Task.Run(() => new Submitted(i, commit.SubmitAsync(i, default)))));
        store.ReleaseFirstWrite();

        await first.WaitAsync(Timeout);
        foreach (var submission in submitted)
        {
            Assert.Equal(submission.Item * 10, await submission.Result.WaitAsync(Timeout));
        }
        // Two writers share the queue: whichever took an item, it was written once.
        Assert.Equal(Enumerable.Range(0, 101), store.Written.Order());
    }

    [Fact]
    public async Task FailingBatchIsWrittenAgainMemberByMemberAndOnlyTheFaultyCallerFails()
    {
        var store = new FakeStore { Fault = items => items.Contains(13) ? Postgres(PostgresErrorCodes.CheckViolation) : null };
        await using var commit = store.Open();

        var (first, callers) = await store.QueueBehindHeldWriteAsync(commit, 1, 13, 3);

        Assert.Equal(10, await callers[0].WaitAsync(Timeout));
        Assert.Equal(30, await callers[2].WaitAsync(Timeout));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => callers[1].WaitAsync(Timeout));
        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        await first;
        Assert.Equal("0 | 1,13,3 | 1 | 13 | 3", store.Batches);
    }

    [Theory]
    [InlineData("npgsql")]
    [InlineData("redis")]
    [InlineData("timeout")]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.TooManyConnections)]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    public async Task OutageFailsTheWholeBatchWithoutWritingMembersAlone(string outage)
    {
        Exception fault = outage switch
        {
            "npgsql" => new NpgsqlException("Failed to connect"),
            "redis" => new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection"),
            "timeout" => new TimeoutException(),
            _ => Postgres(outage),
        };
        var store = new FakeStore { Fault = items => items.Contains(0) ? null : fault };
        await using var commit = store.Open();

        var (first, rest) = await store.QueueBehindHeldWriteAsync(commit, 1, 2, 3);

        await first.WaitAsync(Timeout);
        foreach (var caller in rest)
        {
            Assert.Same(fault, await Assert.ThrowsAnyAsync<Exception>(() => caller.WaitAsync(Timeout)));
        }
        Assert.Equal("0 | 1,2,3", store.Batches);
    }

    [Fact]
    public async Task ConflictIsWrittenAgainAtOnce()
    {
        var conflicts = 1;
        var store = new FakeStore { Fault = _ => Interlocked.Decrement(ref conflicts) >= 0 ? Postgres(PostgresErrorCodes.DeadlockDetected) : null };
        await using var commit = store.Open();

        Assert.Equal(50, await commit.SubmitAsync(5, default).WaitAsync(Timeout));
        Assert.Equal("5 | 5", store.Batches);
    }

    [Fact]
    public async Task ConflictThatPersistsIsGivenUpAfterThreeTries()
    {
        var store = new FakeStore { Fault = _ => Postgres(PostgresErrorCodes.SerializationFailure) };
        await using var commit = store.Open();

        var conflict = await Assert.ThrowsAsync<PostgresException>(() => commit.SubmitAsync(5, default).WaitAsync(Timeout));

        Assert.Equal(PostgresErrorCodes.SerializationFailure, conflict.SqlState);
        Assert.Equal("5 | 5 | 5", store.Batches);
    }

    [Fact]
    public async Task LoneCallersRefusalReachesItOnceAndTheWriterGoesOn()
    {
        var store = new FakeStore { Fault = items => items.Contains(13) ? Postgres(PostgresErrorCodes.UniqueViolation) : null };
        await using var commit = store.Open();

        await Assert.ThrowsAsync<PostgresException>(() => commit.SubmitAsync(13, default).WaitAsync(Timeout));
        Assert.Equal(70, await commit.SubmitAsync(7, default).WaitAsync(Timeout));

        Assert.Equal("13 | 7", store.Batches);
    }

    [Fact]
    public async Task DisposeWritesWhatWasSubmittedThenRefusesMore()
    {
        var store = new FakeStore();
        var commit = store.Open();
        var first = await store.HoldFirstWriteAsync(commit, 0);
        var queued = new[] { commit.SubmitAsync(1, default), commit.SubmitAsync(2, default) };

        var disposing = commit.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted, "dispose did not wait for the write in flight");
        store.ReleaseFirstWrite();
        await disposing.WaitAsync(Timeout);

        Assert.Equal(0, await first);
        Assert.Equal(new[] { 10, 20 }, await Task.WhenAll(queued));
        Assert.Throws<ObjectDisposedException>(() => { _ = commit.SubmitAsync(3, default); });
        Assert.Equal("0 | 1,2", store.Batches);
    }

    [Fact]
    public async Task CallerThatStopsWaitingLeavesItsItemInTheBatch()
    {
        var store = new FakeStore();
        await using var commit = store.Open();
        var first = await store.HoldFirstWriteAsync(commit, 0);
        using var gaveUp = new CancellationTokenSource();

        var impatient = commit.SubmitAsync(1, gaveUp.Token);
        var patient = commit.SubmitAsync(2, default);
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        store.ReleaseFirstWrite();

        Assert.Equal(20, await patient.WaitAsync(Timeout));
        await first;
        // Cancelling ends the wait, not the write: the caller must not assume its item was dropped.
        Assert.Equal("0 | 1,2", store.Batches);
    }

    [Fact]
    public async Task LoneCallersWriteRunsInsideItsOwnTrace()
    {
        var store = new FakeStore();
        await using var commit = store.Open();
        using var request = new Activity("request").Start();

        await commit.SubmitAsync(1, default).WaitAsync(Timeout);

        Assert.Equal([request.Id], store.Activities.Select(a => a?.Id));
    }

    [Fact]
    public async Task SharedBatchHasItsOwnSpanLinkedToEachCallerAndNoParent()
    {
        var batches = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Kata3Telemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            // Started, not stopped: callers get their results (inline) before the writer ends the span.
            ActivityStarted = activity => { if (activity.OperationName == "fast shared batch") lock (batches) batches.Add(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        var store = new FakeStore();
        // Created inside a request, as a store created on first use is: the writers must not make
        // that request (still running here) the parent of every batch they write.
        using var creator = new Activity("request that created the store").Start();
        await using var commit = store.Open(name: "fast shared batch");
        Activity.Current = null;

        var first = await store.HoldFirstWriteAsync(commit, 0);
        var callers = Enumerable.Range(1, 3).Select(_ => new Activity("caller").Start()).ToList();
        var results = callers.Select((caller, i) => { Activity.Current = caller; return commit.SubmitAsync(i + 1, default); }).ToList();
        Activity.Current = null;
        store.ReleaseFirstWrite();
        await Task.WhenAll([first, .. results]).WaitAsync(Timeout);

        var batch = Assert.Single(batches);
        Assert.Null(batch.ParentId);
        Assert.Equal(callers.Select(c => c.SpanId.ToHexString()).Order(), batch.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.Equal(3, batch.GetTagItem(Kata3Telemetry.BatchSizeTag));
        Assert.Same(batch, store.Activities[1]);
    }

    private static PostgresException Postgres(string sqlState) => new("fast test", "ERROR", "ERROR", sqlState);

    private sealed record Submitted(int Item, Task<int> Result);

    /// <summary>
    /// Writes each item as item × 10 (or throws what <see cref="Fault"/> says), recording every
    /// batch and the Activity it ran under. Its first write can be held open until released.
    /// </summary>
    private sealed class FakeStore
    {
        private readonly TaskCompletionSource _firstWriteStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstWriteReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<(int[] Items, Activity? Activity)> _writes = [];
        private bool _holdFirstWrite;

        public Func<IReadOnlyList<int>, Exception?> Fault { get; init; } = _ => null;

        public string Batches => string.Join(" | ", Snapshot().Select(w => string.Join(',', w.Items)));
        public IEnumerable<int> Written => Snapshot().SelectMany(w => w.Items);
        public List<Activity?> Activities => [.. Snapshot().Select(w => w.Activity)];

        public GroupCommit<int, int> Open(int maxBatch = 256, int writers = 1, string name = "fast test") =>
            new(name, WriteAsync, maxBatch, writers);

        /// <summary>Submits <paramref name="item"/> and returns once its write has started and is held.</summary>
        public async Task<Task<int>> HoldFirstWriteAsync(GroupCommit<int, int> commit, int item)
        {
            _holdFirstWrite = true;
            var result = commit.SubmitAsync(item, default);
            await _firstWriteStarted.Task.WaitAsync(Timeout);
            return result;
        }

        public void ReleaseFirstWrite() => _firstWriteReleased.TrySetResult();

        /// <summary>
        /// Holds a write of 0, submits <paramref name="items"/> behind it, then releases it: the
        /// items are all queued before the next batch is taken.
        /// </summary>
        public async Task<(Task<int> First, List<Task<int>> Queued)> QueueBehindHeldWriteAsync(GroupCommit<int, int> commit, params int[] items)
        {
            var first = await HoldFirstWriteAsync(commit, 0);
            var queued = items.Select(i => commit.SubmitAsync(i, default)).ToList();
            ReleaseFirstWrite();
            return (first, queued);
        }

        private async Task<IReadOnlyList<int>> WriteAsync(IReadOnlyList<int> items, CancellationToken cancellationToken)
        {
            bool first;
            lock (_writes)
            {
                _writes.Add(([.. items], Activity.Current));
                first = _writes.Count == 1;
            }
            if (first && _holdFirstWrite)
            {
                _firstWriteStarted.SetResult();
                await _firstWriteReleased.Task;
            }
            return Fault(items) is { } fault ? throw fault : items.Select(i => i * 10).ToList();
        }

        private (int[] Items, Activity? Activity)[] Snapshot()
        {
            lock (_writes)
            {
                return [.. _writes];
            }
        }
    }
}
