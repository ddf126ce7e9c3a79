using Kata3.Worker;
using Microsoft.Extensions.Options;

namespace Kata3.Tests.Fast;

/// <summary>The worker's options fail its start on any bad value, nested ones included.</summary>
[Trait("Category", "Fast")]
public sealed class WorkerOptionsTests
{
    // What ValidateDataAnnotations() registers for the worker's options.
    private static ValidateOptionsResult Validate(WorkerOptions options) =>
        new DataAnnotationValidateOptions<WorkerOptions>(Options.DefaultName).Validate(Options.DefaultName, options);

    [Fact]
    public void TheDefaultsAreValid() => Assert.True(Validate(new WorkerOptions()).Succeeded);

    [Theory]
    [InlineData(0, "MaxAttempts")]
    [InlineData(101, "MaxAttempts")]
    public void ABadRetrySettingStopsTheStartNamingIt(int maxAttempts, string named)
    {
        var result = Validate(new WorkerOptions { Retry = { MaxAttempts = maxAttempts } });

        Assert.True(result.Failed);
        Assert.Contains($"Retry:{named}", result.FailureMessage);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(49)]
    [InlineData(60_001)]
    public void ASchedulePollIntervalOutOfRangeStopsTheStartNamingIt(int milliseconds)
    {
        var result = Validate(new WorkerOptions { SchedulePollInterval = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.True(result.Failed);
        Assert.Contains(nameof(WorkerOptions.SchedulePollInterval), result.FailureMessage);
    }

    [Fact]
    public void ABadTopLevelSettingStopsTheStart() =>
        Assert.True(Validate(new WorkerOptions { Concurrency = 0 }).Failed);
}
