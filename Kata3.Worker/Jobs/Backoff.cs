namespace Kata3.Worker.Jobs;

/// <summary>A doubling pause, capped; its state outlives one loop iteration.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    // The cap holds even below the first pause (Worker:MaxBackoff may be 0.1 s).
    private readonly TimeSpan _initial = initial < max ? initial : max;

    private long _nextTicks;

    public TimeSpan Next()
    {
        long current, next;
        do
        {
            current = Interlocked.Read(ref _nextTicks);
            next = Math.Min(max.Ticks, Math.Max(current, _initial.Ticks) * 2);
        }
        while (Interlocked.CompareExchange(ref _nextTicks, next, current) != current);
        return TimeSpan.FromTicks(Math.Max(current, _initial.Ticks));
    }

    public void Reset() => Interlocked.Exchange(ref _nextTicks, 0);
}
