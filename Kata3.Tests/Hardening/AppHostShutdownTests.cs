using Kata3.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kata3.Tests.Hardening;

/// <summary>
/// Stopping the AppHost with jobs in flight stops the workers while Redis and PostgreSQL are still
/// up: each job is finished or handed back ("interrupted"), never left to its lease ("abandoned").
/// </summary>
public sealed class AppHostShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StoppingTheAppHostHandsJobsInFlightBackInsteadOfLeavingThemToTheirLease()
    {
        // Kept data, so a second start can read what the first one recorded as it stopped.
        var data = Path.Combine(Path.GetTempPath(), $"kata3-shutdown-{Guid.NewGuid():N}");
        try
        {
            Guid[] jobIds;
            var first = new KeptDataApp(data, workers: 2);
            try
            {
                await first.InitializeAsync();
                await first.WaitForWorkersAtWorkAsync();
                var accepted = new List<OrderAcceptedBody>();
                for (var i = 0; i < first.Workers; i++)
                {
                    accepted.Add(await first.PostOrderAsync($"in-flight-{i}"));
                }
                jobIds = [.. accepted.Select(a => a.JobId)];
                await first.WaitForRunningOnReplicasAsync(jobIds, first.Workers, TimeSpan.FromSeconds(30));
            }
            finally
            {
                await first.DisposeAsync(); // the AppHost's own StopAsync, as SIGTERM or Ctrl+C runs it
            }

            // Only to read what the first recorded: one replica is enough.
            var second = new KeptDataApp(data, workers: 1);
            try
            {
                await second.InitializeAsync();
                await using var command = second.Database.CreateCommand(
                    "SELECT job_id, attempt, coalesce(outcome, 'running') FROM job_attempts WHERE job_id = ANY(@ids) AND attempt = 1");
                command.Parameters.AddWithValue("ids", jobIds);
                var outcomes = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        outcomes.Add($"{reader.GetGuid(0)}: {reader.GetString(2)}");
                    }
                }
                output.WriteLine(string.Join(Environment.NewLine, outcomes));
                Assert.Equal(jobIds.Length, outcomes.Count);
                Assert.All(outcomes, o => Assert.True(o.EndsWith(": interrupted") || o.EndsWith(": completed"),
                    $"first attempts after the AppHost stopped: {string.Join("; ", outcomes)}"));
            }
            finally
            {
                await second.DisposeAsync();
            }
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>Jobs far longer than the test, data in a directory that outlives the app.</summary>
    private sealed class KeptDataApp(string data, int workers) : Kata3App(workers, jobDuration: TimeSpan.FromSeconds(60),
        "--Kata3:EphemeralData=false",
        $"--Kata3:DataDirectory={data}",
        "--Kata3:Worker:ShutdownTimeout=00:00:01")
    {
        // As `dotnet run --project Kata3.AppHost` starts them: the stop's signal goes through `dotnet run`.
        protected override bool LaunchesBuiltOutput => false;
    }
}
