using Kata3.Worker.Jobs;

namespace Kata3.Tests.Fast;

/// <summary>
/// Two worker replicas side by side on the fast database, each with its own identity, for the
/// tests of the worker's statements on a job: who may claim, write and renew what.
/// </summary>
public abstract class ReplicaPairTests(FastDatabase db, string a, string b) : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    protected FastDatabase Db => db;

    private protected AttemptStore A { get; private set; } = null!;

    private protected AttemptStore B { get; private set; } = null!;

    public Task InitializeAsync()
    {
        A = db.Replica(a, Lease);
        B = db.Replica(b, Lease);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }

    private protected static async Task<Claim> ClaimAsync(AttemptStore replica, Guid jobId) =>
        await replica.ClaimAsync(jobId, default).WaitAsync(Timeout);
}
