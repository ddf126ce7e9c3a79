// Most test classes start a whole app (Redis, PostgreSQL, API, workers); on two cores they
// measure and behave better one at a time. The fast layer (Fast/) takes seconds either way.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
