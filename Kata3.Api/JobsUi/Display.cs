using System.Globalization;
using Kata3.Contracts;
using Microsoft.AspNetCore.Mvc.ViewFeatures;

namespace Kata3.Api.JobsUi;

/// <summary>How the pages write times, ages and outcomes: UTC, to the second, the same everywhere.</summary>
internal static class Display
{
    public static string Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "—";

    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static string Seconds(double seconds) =>
        seconds < 60 ? seconds.ToString("0.0 's'", CultureInfo.InvariantCulture)
        : TimeSpan.FromSeconds(Math.Round(seconds)).ToString(seconds < 3600 ? @"m\m\ ss\s" : @"h\h\ mm\m", CultureInfo.InvariantCulture);

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Whether an operator can still stop this job.</summary>
    public static bool CanCancel(string status) => status is JobStatus.Queued or JobStatus.Scheduled or JobStatus.Processing;

    public static bool CanRetry(string status) => status == JobStatus.Dead;

    /// <summary>Hands an action's outcome to the page the browser is redirected to.</summary>
    public static void Keep(this ITempDataDictionary tempData, ActionOutcome outcome)
    {
        tempData[nameof(ActionOutcome.Message)] = outcome.Message;
        tempData[nameof(ActionOutcome.Done)] = outcome.Done;
    }
}
