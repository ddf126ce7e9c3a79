namespace Kata3.Contracts;

/// <summary>
/// Job priorities. Each has its own ready list; workers take high before normal before low,
/// except that a fixed share of fetches looks at the lower lists first so they never starve.
/// </summary>
public static class JobPriority
{
    public const string High = "high";
    public const string Normal = "normal";
    public const string Low = "low";

    /// <summary>In the order workers normally serve them.</summary>
    public static readonly IReadOnlyList<string> All = [High, Normal, Low];

    public static bool IsValid(string? priority) => priority is High or Normal or Low;
}
