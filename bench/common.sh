# Shared by bench/ingest, bench/drain, bench/latency and bench/screenshots: sourced, not run.
#
# start_app ARGS...  builds (the AppHost and $BENCH_TOOL, default bench/Kata3.Bench), waits until no
#                    other Kata3 app holds the machine (with SHARE_MACHINE=1: only until the app's
#                    ports are free, for scripts that measure nothing), starts
#                    `dotnet run --project Kata3.AppHost -c Release --no-build -- --Kata3:EphemeralData=true
#                    --Kata3:FailureSimulation=false --Kata3:Api:RateLimiting:PermitsPerSecond=0
#                    --Kata3:TraceSampling=${TRACE_SAMPLING:-0.01} ARGS...` (Release build; per-job completion
#                    logs at ${JOB_LOG_LEVEL:-Warning}; the runtime settings of bench/runtime.sh)
#                    and waits until the API answers and every worker replica runs. It then points
#                    API at the API process's own port (not DCP's development proxy), and exports
#                    PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD and REDIS_PORT/REDISCLI_AUTH for this
#                    app's own PostgreSQL and Redis (found through its process tree and the throwaway
#                    data directory's password files), so psql, pgbench and redis-cli reach them.
# On exit (normal, error, SIGINT/SIGTERM or the BENCH_TIMEOUT watchdog: default 300 s from the start,
# after waiting up to 10 min for the machine to be free) the app is
# stopped with SIGTERM to its `dotnet run` process (SIGKILL after 40 s), and every helper process
# this script started is ended.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/stores.sh
source bench/runtime.sh

API=http://localhost:5080
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
BENCH_DLL=bench/Kata3.Bench/bin/Release/net10.0/Kata3.Bench.dll
work=$(mktemp -d /tmp/kata3-bench-run.XXXXXX)
apphost_pid=""
helper_pids=()

cleanup() {
  local status=$?
  for p in "${helper_pids[@]+"${helper_pids[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [[ -n $apphost_pid ]]; then
    kill -TERM "$apphost_pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$apphost_pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$apphost_pid" 2>/dev/null && { echo "the app did not stop within 40 s: SIGKILL" >&2; kill -KILL "$apphost_pid" 2>/dev/null || true; }
    wait "$apphost_pid" 2>/dev/null || true
  fi
  for p in "${helper_pids[@]+"${helper_pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  [[ -n ${KEEP:-} ]] && cp "$work/apphost.log" /tmp/kata3-bench-apphost.log 2>/dev/null
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The watchdog, started once the machine is ours: the run is bounded, whatever hangs.
start_watchdog() {
  ( trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "${BENCH_TIMEOUT:-300}" & sleeper=$!
    wait "$sleeper" && { echo "bench: over ${BENCH_TIMEOUT:-300} s, giving up" >&2; kill -TERM $$; } ) &
  helper_pids+=($!)
}

# Every process below PID (children, grandchildren, ...), one per line.
descendants() {
  ps -eo pid=,ppid= | awk -v root="$1" '{kids[$2] = kids[$2] " " $1}
    END {queue[1] = root; n = 1; for (i = 1; i <= n; i++) {m = split(kids[queue[i]], k, " ");
         for (j = 1; j <= m; j++) {print k[j]; queue[++n] = k[j]}}}'
}

# Processes of this app: DCP (the orchestrator) is started by the AppHost but re-parented to
# init; its `--monitor` argument names the AppHost process.
app_pids() {
  local apphost dcp
  apphost=$(pgrep -P "$apphost_pid" -f 'Kata3.AppHost/bin/' | head -1) || return 0
  echo "$apphost"; descendants "$apphost"
  for dcp in $(pgrep -f "dcp start-apiserver --monitor $apphost( |$)" || true); do echo "$dcp"; descendants "$dcp"; done
}
app_pid_matching() { # REGEX on the command line -> matching pids of this app
  local p
  for p in $(app_pids); do
    { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | sed 's/ $//' | grep -Eq "$1" && echo "$p"
  done
  return 0
}
# Looked up once the app runs (start_app), so that sampling is cheap.
API_PID="" WORKER_PIDS="" ORCHESTRATION_PIDS=""
api_pid() { echo "$API_PID"; }
worker_pids() { echo "$WORKER_PIDS"; }
rss_mb() { ps -o rss= -p "$1" 2>/dev/null | awk '{printf "%.0f", $1 / 1024}'; }
# "API RSS | worker RSS (largest replica)" as table cells.
memory_cells() {
  local worst=0 w m
  for w in $(worker_pids); do m=$(rss_mb "$w"); ((m > worst)) && worst=$m; done
  printf '%s MB | %s MB' "$(rss_mb "$(api_pid)")" "$worst"
}

wait_for_machine() {
  local i
  for i in $(seq 1 120); do
    # Another Kata3 app, a test run (whose apps have other ports) or anything on the ports of the
    # launch profiles (the API's 5080; the dashboard's 15080, 19080 and 20080).
    if ! ss -ltnH 2>/dev/null | grep -Eq ':(5080|15080|19080|20080) ' &&
       { [[ ${SHARE_MACHINE:-} == 1 ]] ||
         ! pgrep -f '(Kata3\.AppHost|Kata3\.Api/bin/|Kata3\.Worker/bin/|dotnet test|testhost)' >/dev/null; }; then return 0; fi
    ((i == 1)) && echo "bench: another Kata3 app or test run is running (or one of its ports is taken); waiting up to 10 min" >&2
    sleep 5
  done
  echo "bench: the machine did not become free" >&2; exit 1
}

build() {
  local i
  for i in 1 2 3; do
    if dotnet build Kata3.AppHost -c Release -v q -nologo >"$work/build.log" 2>&1 &&
       dotnet build "${BENCH_TOOL:-bench/Kata3.Bench}" -c Release -v q -nologo >>"$work/build.log" 2>&1; then return 0; fi
    echo "bench: build failed (attempt $i), retrying in 60 s" >&2; sleep 60
  done
  cat "$work/build.log" >&2; exit 1
}

start_app() { # EXPECTED_WORKERS ARGS...
  local workers=$1; shift
  build
  wait_for_machine
  start_watchdog
  # As in production: a sample of the traces (TRACE_SAMPLING, default 1 %; 1 = every order) and no
  # log line per completed job (the replicas inherit this environment variable, as they do the
  # runtime settings).
  env "${BENCH_RUNTIME_ENV[@]}" "Logging__LogLevel__Kata3.Worker.Jobs.JobExecutor=${JOB_LOG_LEVEL:-Warning}" \
  dotnet run --project Kata3.AppHost -c Release --no-build -- --Kata3:EphemeralData=true --Kata3:FailureSimulation=false \
    --Kata3:Api:RateLimiting:PermitsPerSecond=0 --Kata3:TraceSampling="${TRACE_SAMPLING:-0.01}" "$@" >"$work/apphost.log" 2>&1 &
  apphost_pid=$!
  local i
  for i in $(seq 1 120); do curl -sf "$API/health" >/dev/null 2>&1 && break; sleep 1; done
  curl -sf "$API/health" >/dev/null || { echo "bench: the API never became healthy" >&2; exit 1; }
  for i in $(seq 1 60); do (( $(app_pid_matching 'Kata3\.Worker/bin/.*/Kata3\.Worker$' | wc -l) >= workers )) && break; sleep 1; done
  sleep 3 # the replicas' consume loops

  local pg redis
  pg=$(app_pid_matching '/postgres -D ' | head -1)
  redis=$(app_pid_matching 'redis-server ' | head -1)
  [[ -n $pg && -n $redis ]] || { echo "bench: cannot find this app's PostgreSQL/Redis" >&2; exit 1; }
  store_env "$pg" "$redis"
  API_PID=$(app_pid_matching 'Kata3\.Api/bin/.*/Kata3\.Api$' | head -1)
  WORKER_PIDS=$(app_pid_matching 'Kata3\.Worker/bin/.*/Kata3\.Worker$')
  ORCHESTRATION_PIDS=$(app_pid_matching '(dcp |Aspire\.Dashboard|Kata3\.AppHost/bin|dotnet run )')
  # Load goes to the API process itself, as a production load balancer's would, not through the
  # port DCP proxies for development (two more TCP hops per request, and the proxy's own CPU).
  local port
  port=$(ss -ltnpH "src 127.0.0.1" | awk -v pid="pid=$API_PID," 'index($0, pid) {n = split($4, a, ":"); print a[n]; exit}')
  [[ -n $port ]] || { echo "bench: cannot find the API process's own port" >&2; exit 1; }
  API=http://127.0.0.1:$port
}

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# The operator key the AppHost generated and keeps in its user secrets.
operator_key() {
  local key
  key=$(dotnet user-secrets list --project Kata3.AppHost | sed -n 's/^Parameters:operator-key = //p')
  [[ -n $key ]] || { echo "bench: no Parameters:operator-key in the AppHost's user secrets" >&2; exit 1; }
  echo "$key"
}
# operator_curl ARGS...: curl with the operator key ($OPERATOR_KEY once a script has looked it up),
# given on stdin, not on the command line, where ps would show it.
operator_curl() { printf 'Authorization: Bearer %s\n' "${OPERATOR_KEY:-$(operator_key)}" | curl -H @- "$@"; }
rcli() { redis-cli -p "$REDIS_PORT" --no-auth-warning "$@"; }
# closed|open URL CLIENTS|RATE SECONDS [PRODUCT] -> one JSON line. Socket completions run inline on the
# generator's epoll thread (its continuations only parse a status line), sparing it thread hops.
load() { DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet "$BENCH_DLL" "$@"; }
# Closed loop with wrk when installed (a C client: far less CPU taken from the app on two cores),
# else with Kata3.Bench. Same JSON line either way.
load_closed() { # CLIENTS SECONDS
  if command -v wrk >/dev/null; then
    wrk -t "$(( $1 < 2 ? 1 : 2 ))" -c "$1" -d "$2s" --timeout 30s -s bench/post.lua "$API" | sed -n 's/^JSON //p'
  else
    load closed "$API" "$1" "$2" ingest
  fi
}

# pgbench SCRIPT CLIENTS SECONDS -> "txn/s p50_ms p99_ms failed" (per-transaction log, fsync on, extended
# protocol like Npgsql's unprepared commands).
pgbench_run() {
  local script=$1 clients=$2 seconds=$3 threads=2
  ((clients < 2)) && threads=1
  rm -f "$work"/pgb.*
  "$PGBENCH" -n -M extended -c "$clients" -j "$threads" -T "$seconds" -f "$script" -l --log-prefix="$work/pgb" \
    >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out" >&2; return 1; }
  local tps failed
  tps=$(awk '/^tps = / {print $3}' "$work/pgbench.out")
  failed=$(awk '/number of failed transactions/ {print $5}' "$work/pgbench.out")
  # Log line: client_id transaction_no time_us script_no time_epoch time_us_fraction
  cat "$work"/pgb.* | awk '{print $3 / 1000}' | sort -n | awk -v tps="$tps" -v failed="${failed:-0}" \
    '{a[NR] = $1} END {p50 = a[int(NR * 0.50 + 0.999999)]; p99 = a[int(NR * 0.99 + 0.999999)]; printf "%.0f %.2f %.2f %s\n", tps, p50, p99, failed}'
}

# CPU accounting over a window: cpu_mark NAME saves ticks per part; cpu_table FROM TO prints where
# the machine's two cores went between the two marks (cores busy, from /proc/*/stat utime+stime).
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $( { awk '{print $14 + $15}' "/proc/$p/stat"; } 2>/dev/null || echo 0))); done; echo "$t"; }
# PostgreSQL: the postmaster's own time, its reaped backends' (cutime + cstime) and the live ones'.
pg_ticks() {
  local own live
  own=$( { awk '{print $14 + $15 + $16 + $17}' "/proc/$PG_PID/stat"; } 2>/dev/null || echo 0)
  # shellcheck disable=SC2046
  live=$(cpu_ticks $(pgrep -P "$PG_PID" || true))
  echo $((own + live))
}
cpu_mark() {
  local f="$work/cpu.$1"
  {
    echo "wall $(date +%s.%N)"
    echo "machine $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)"
    echo "api $(cpu_ticks "$(api_pid)")"
    # shellcheck disable=SC2046
    echo "workers $(cpu_ticks $(worker_pids))"
    echo "postgres $(pg_ticks)"
    echo "redis $(cpu_ticks "$REDIS_PID")"
    # shellcheck disable=SC2046
    echo "orchestration $(cpu_ticks $ORCHESTRATION_PIDS)"
  } >"$f"
}
cpu_cells() { # FROM TO -> "machine | api | workers | postgres | redis | orchestration | rest" in cores
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" 'NR == FNR {a[$1] = $2; next} {b[$1] = $2}
    END {w = b["wall"] - a["wall"]; sep = ""; rest = b["machine"] - a["machine"];
         n = split("machine api workers postgres redis orchestration", k, " ");
         for (i = 1; i <= n; i++) {d = b[k[i]] - a[k[i]]; if (i > 1) rest -= d; printf "%s%.2f", sep, d / hz / w; sep = " | "}
         printf " | %.2f", rest / hz / w}' \
    "$work/cpu.$1" "$work/cpu.$2"
}
CPU_HEADER='| window | machine busy (of 2 cores) | API | workers | PostgreSQL | Redis | AppHost/DCP/dashboard | rest (load generator, anything else) |'
CPU_RULE='|---|---|---|---|---|---|---|---|'
