using Kata3.Worker;

namespace Kata3.Tests.Fast;

/// <summary>
/// The wait before a failed job's next attempt (RetryOptions.DelayAfter): base × 2^(attempt−1),
/// capped, with ±20 % jitter. Jitter is random, so each rule is checked on many draws.
/// </summary>
[Trait("Category", "Fast")]
public sealed class RetryDelayTests
{
    private const int Draws = 500;
    private static readonly RetryOptions Defaults = new();

    [Theory]
    [InlineData(1, 1_000)]
    [InlineData(2, 2_000)]
    [InlineData(3, 4_000)]
    [InlineData(5, 16_000)]
    [InlineData(8, 128_000)]
    public void DelayDoublesWithEachAttemptWithinItsJitter(int attempt, double expectedMilliseconds)
    {
        Assert.All(Delays(Defaults, attempt), delay => Assert.InRange(delay, 0.8 * expectedMilliseconds, 1.2 * expectedMilliseconds));
    }

    [Fact]
    public void EveryDelayIsLongerThanAnyOfThePreviousAttempt()
    {
        for (var attempt = 1; attempt < 8; attempt++)
        {
            Assert.True(Delays(Defaults, attempt + 1).Min() > Delays(Defaults, attempt).Max(), $"attempt {attempt + 1} overlaps attempt {attempt}");
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(31)]
    [InlineData(1_000)]
    [InlineData(int.MaxValue)]
    public void DelayStopsGrowingAtMaxDelay(int attempt)
    {
        var max = Defaults.MaxDelay.TotalMilliseconds;

        Assert.All(Delays(Defaults, attempt), delay => Assert.InRange(delay, 0.8 * max, 1.2 * max));
    }

    [Fact]
    public void CapAppliesToCustomSettings()
    {
        var options = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(300) };

        Assert.All(Delays(options, 3), delay => Assert.InRange(delay, 240, 360));
        Assert.All(Delays(options, 2), delay => Assert.InRange(delay, 160, 240));
    }

    [Fact]
    public void DelaysAreSpreadSoRetriesDoNotMarchInStep()
    {
        var delays = Delays(Defaults, 3);

        Assert.True(delays.Distinct().Count() > Draws / 2, "the jitter hardly varies");
        Assert.True(delays.Max() - delays.Min() > 0.2 * 4_000, $"the jitter spans only {delays.Max() - delays.Min()} ms");
    }

    [Fact]
    public void NoBaseDelayMeansNoDelay()
    {
        Assert.All(Delays(new RetryOptions { BaseDelay = TimeSpan.Zero }, 4), delay => Assert.Equal(0, delay));
    }

    private static double[] Delays(RetryOptions options, int attempt) =>
        [.. Enumerable.Range(0, Draws).Select(_ => options.DelayAfter(attempt).TotalMilliseconds)];
}
