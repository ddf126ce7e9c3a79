namespace Kata3.Tests.Infrastructure;

/// <summary>One replica and short jobs: order of processing is observable and waits are short.</summary>
public sealed class OneWorkerApp() : Kata3App(workers: 1, jobDuration: TimeSpan.FromMilliseconds(300));

/// <summary>Three replicas and one-second jobs, so that several replicas get a share.</summary>
public sealed class ThreeWorkersApp() : Kata3App(workers: 3, jobDuration: TimeSpan.FromSeconds(1));

/// <summary>Two replicas and long jobs, so a replica can be stopped while it holds one.</summary>
public sealed class LongJobsApp() : Kata3App(workers: 2, jobDuration: TimeSpan.FromSeconds(4));
