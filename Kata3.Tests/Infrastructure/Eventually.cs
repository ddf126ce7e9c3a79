namespace Kata3.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline, instead of sleeping a fixed time and hoping.</summary>
public static class Eventually
{
    public static async Task Async(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s: {describe()}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }
}
