namespace Kata3.Contracts;

/// <summary>Values of orders.status.</summary>
public static class OrderStatus
{
    public const string Pending = "pending";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>Values of jobs.status.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
}
