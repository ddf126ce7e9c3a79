// Each test class starts a whole app (Redis, PostgreSQL, API, workers); on two cores they
// measure and behave better one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
