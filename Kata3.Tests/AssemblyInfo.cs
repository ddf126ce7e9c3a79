// Test classes and collections run side by side: most of an app test's time is spent waiting on
// its app (jobs, leases, timers), so Kata3App lets three apps run at once (KATA3_TEST_APPS). Up to
// four tests run at a time, so a class whose app is up never waits behind one still starting.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
// The longest-lived apps start first (LongestFirst).
[assembly: TestCollectionOrderer("Kata3.Tests.Infrastructure.LongestFirst", "Kata3.Tests")]
