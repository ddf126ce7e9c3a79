# Sourced by the bench scripts that start the app (common.sh, seed, recovery): no side effects.
#
# BENCH_RUNTIME_ENV  the .NET runtime settings the figures in docs/performance.md were measured
#                    with, tuned for this 2-core VM, where PostgreSQL, Redis, the services, Aspire and
#                    the load generator share the cores. Given to `dotnet run --project Kata3.AppHost`
#                    with env(1); every .NET process of the app inherits them (the AppHost, the
#                    dashboard, the API and each worker replica). Not the services' defaults: on
#                    more cores the instrumented JIT tier and the thread pool's spinning may well pay.
#   DOTNET_TieredPGO=0                           no instrumented JIT tier: on two shared cores the
#                                                instrumentation cost more CPU than its profile repaid
#   DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 idle thread-pool threads block at once instead of
#                                                spinning with sched_yield first
BENCH_RUNTIME_ENV=(DOTNET_TieredPGO=0 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
