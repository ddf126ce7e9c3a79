using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Kata3;

/// <summary>Names of Kata3's own ActivitySource and Meter, registered with OpenTelemetry in every service.</summary>
public static class Kata3Telemetry
{
    public const string ActivitySourceName = "Kata3.Jobs";
    public const string MeterName = "Kata3.Jobs";
    /// <summary>Span tag: how many items one batched write (a group commit, a push) carried.</summary>
    public const string BatchSizeTag = "kata3.batch_size";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
