using Kata3.Worker;
using Kata3.Worker.Jobs;

namespace Kata3.Tests.Fast;

/// <summary>The consume loop's pause after a failure (Backoff): doubling, capped, reset by success.</summary>
[Trait("Category", "Fast")]
public sealed class BackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void PauseDoublesFromTheInitialOne()
    {
        var backoff = new Backoff(Initial, TimeSpan.FromMinutes(1));

        Assert.Equal([200, 400, 800, 1600, 3200], Pauses(backoff, 5));
    }

    [Fact]
    public void PauseStopsGrowingAtTheCap()
    {
        var backoff = new Backoff(Initial, TimeSpan.FromSeconds(1));

        Assert.Equal([200, 400, 800, 1000, 1000, 1000], Pauses(backoff, 6));
    }

    [Fact]
    public void PauseAtTheDefaultCapStaysThere()
    {
        var backoff = new Backoff(Initial, new WorkerOptions().MaxBackoff);

        Assert.All(Pauses(backoff, 100).Skip(6), pause => Assert.Equal(10_000, pause));
    }

    [Fact]
    public void ResetStartsOverFromTheInitialPause()
    {
        var backoff = new Backoff(Initial, TimeSpan.FromMinutes(1));
        Pauses(backoff, 4);

        backoff.Reset();

        Assert.Equal([200, 400], Pauses(backoff, 2));
    }

    [Fact]
    public async Task ConcurrentFailuresEachTakeTheirOwnStep()
    {
        var backoff = new Backoff(Initial, TimeSpan.FromMinutes(10));
        using var start = new Barrier(8);

        // Threads of their own: eight pool threads blocked at the barrier would wait for the pool to grow.
        var pauses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            return backoff.Next().TotalMilliseconds;
        }, TaskCreationOptions.LongRunning)));

        Assert.Equal([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600], pauses.Order());
    }

    [Fact]
    public void CapBelowTheInitialPauseIsStillTheLongestPause()
    {
        var maxBackoff = TimeSpan.FromMilliseconds(100);
        var backoff = new Backoff(Initial, maxBackoff);

        Assert.All(Pauses(backoff, 3), pause => Assert.True(pause <= maxBackoff.TotalMilliseconds, $"paused {pause} ms"));
    }

    private static double[] Pauses(Backoff backoff, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => backoff.Next().TotalMilliseconds)];
}
