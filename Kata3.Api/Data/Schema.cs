using Kata3.Contracts;

namespace Kata3.Api.Data;

/// <summary>
/// The database schema as an ordered list of migrations. Applied migrations are never edited:
/// a change is a new entry at the end, and <see cref="SchemaVersion.Current"/> names it (the
/// version workers wait for).
/// </summary>
internal static class Schema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            CREATE TABLE orders (
                id           uuid PRIMARY KEY,
                product      text          NOT NULL,
                quantity     integer       NOT NULL CHECK (quantity > 0),
                price        numeric(12,2) NOT NULL CHECK (price > 0),
                status       text          NOT NULL,
                created_at   timestamptz   NOT NULL DEFAULT now(),
                updated_at   timestamptz   NOT NULL DEFAULT now(),
                completed_at timestamptz
            );

            CREATE TABLE jobs (
                id           uuid PRIMARY KEY,
                order_id     uuid        NOT NULL REFERENCES orders (id),
                status       text        NOT NULL,
                attempts     integer     NOT NULL DEFAULT 0,
                error        text,
                worker_id    text,
                trace_parent text,
                trace_state  text,
                enqueued_at  timestamptz NOT NULL DEFAULT now(),
                started_at   timestamptz,
                completed_at timestamptz,
                updated_at   timestamptz NOT NULL DEFAULT now()
            );

            CREATE INDEX jobs_order_id ON jobs (order_id);
            """),
        (2, """
            -- Delivery guarantees: leases, retries with back-off, attempt history, idempotency keys.
            ALTER TABLE jobs
                -- Set by the worker at each claim: retry_base + its configured maximum. A manual
                -- retry of a dead job moves retry_base up to the attempts made so far.
                ADD COLUMN max_attempts      integer,
                ADD COLUMN retry_base        integer     NOT NULL DEFAULT 0,
                ADD COLUMN run_at            timestamptz NOT NULL DEFAULT now(),
                ADD COLUMN lease_expires_at  timestamptz,
                ADD COLUMN simulate_failures integer     NOT NULL DEFAULT 0;

            -- The sweeper's two questions: which queued jobs are due, which leases have expired.
            CREATE INDEX jobs_queued_run_at ON jobs (run_at) WHERE status = 'queued';
            CREATE INDEX jobs_processing_lease ON jobs (lease_expires_at) WHERE status = 'processing';
            CREATE INDEX jobs_dead ON jobs (updated_at) WHERE status = 'dead';

            CREATE TABLE job_attempts (
                job_id      uuid        NOT NULL REFERENCES jobs (id),
                attempt     integer     NOT NULL,
                worker_id   text        NOT NULL,
                started_at  timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                outcome     text,
                error       text,
                PRIMARY KEY (job_id, attempt)
            );

            ALTER TABLE orders
                ADD COLUMN idempotency_key text,
                ADD COLUMN request_hash    text;
            CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL;
            """),
        (3, """
            -- Priorities: each has its own ready list in Redis; the row keeps it for re-delivery.
            ALTER TABLE jobs ADD COLUMN priority text NOT NULL DEFAULT 'normal'
                CHECK (priority IN ('high', 'normal', 'low'));
            """),
        (4, """
            -- Room on each page for the updated row: completing an order and finishing an attempt
            -- change no indexed column, so with space they are HOT updates (no index writes).
            ALTER TABLE orders SET (fillfactor = 80);
            ALTER TABLE job_attempts SET (fillfactor = 80);
            """),
        (5, """
            -- The order names its job, so GET /orders/{id} and idempotent replays find the job by
            -- primary key and jobs needs no index on order_id: every job insert, claim and
            -- completion writes one index entry fewer.
            ALTER TABLE orders ADD COLUMN job_id uuid;
            UPDATE orders SET job_id = jobs.id FROM jobs WHERE jobs.order_id = orders.id;
            DROP INDEX jobs_order_id;
            """),
        (6, """
            -- GET /jobs pages by keyset, through one index per status, so a page costs the same at
            -- any depth: queued by run_at, completed by completed_at, dead by updated_at (processing
            -- jobs are few: the lease index finds them all).
            DROP INDEX jobs_queued_run_at;
            CREATE INDEX jobs_queued_run_at ON jobs (run_at, id) WHERE status = 'queued';
            DROP INDEX jobs_dead;
            CREATE INDEX jobs_dead ON jobs (updated_at, id) WHERE status = 'dead';
            CREATE INDEX jobs_completed ON jobs (completed_at, id) WHERE status = 'completed';
            """),
        (7, """
            -- Retention: the orders still holding an idempotency key, oldest first, so expiring keys
            -- reads only those. Only orders posted with a key pay for the entry.
            CREATE INDEX orders_with_idempotency_key ON orders (id) WHERE idempotency_key IS NOT NULL;
            """),
        (8, """
            -- Operating the queue. A scheduled job waits here until its run_at (the scheduler finds
            -- it through this index); a cancelled one is listed latest first.
            CREATE INDEX jobs_scheduled_run_at ON jobs (run_at, id) WHERE status = 'scheduled';
            CREATE INDEX jobs_cancelled ON jobs (updated_at, id) WHERE status = 'cancelled';
            -- Set when an operator cancels a running job: its worker stops it cooperatively, and a
            -- lapsed lease ends it cancelled instead of queued again.
            ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;
            -- Paused priorities: workers take nothing from them. Redis holds a copy for the fetch.
            CREATE TABLE queue_pauses (
                priority  text PRIMARY KEY CHECK (priority IN ('high', 'normal', 'low')),
                paused_at timestamptz NOT NULL DEFAULT now()
            );
            """),
    ];
}
