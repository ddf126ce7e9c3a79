# Sourced by common.sh and seed: no side effects.
#
# store_env PG_PID REDIS_PID  exports PG_PID/REDIS_PID, PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD
#                             and REDIS_PORT/REDISCLI_AUTH for the app whose local PostgreSQL and
#                             Redis run as those processes (ports from their command lines, passwords
#                             from the files next to PostgreSQL's data directory), so that psql,
#                             pgbench and redis-cli reach them.
store_env() {
  local pg=$1 redis=$2 root
  root=$(tr '\0' '\n' <"/proc/$pg/cmdline" | awk 'f {print; exit} $0 == "-D" {f = 1}')
  root=${root%/postgres/data}
  export PG_PID=$pg REDIS_PID=$redis
  export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=kata3db PGTZ=UTC
  PGPORT=$(tr '\0' '\n' <"/proc/$pg/cmdline" | awk 'f {print; exit} $0 == "-p" {f = 1}')
  PGPASSWORD=$(cat "$root/postgres.password")
  REDIS_PORT=$(tr '\0' ' ' <"/proc/$redis/cmdline" | grep -Eo ':[0-9]+' | head -1 | tr -d :)
  REDISCLI_AUTH=$(cat "$root/redis.password")
  export PGPORT PGPASSWORD REDIS_PORT REDISCLI_AUTH
}
