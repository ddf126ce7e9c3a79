namespace Kata3.Api.Data;

/// <summary>
/// The database schema as an ordered list of migrations. Applied migrations are never edited:
/// a change is a new entry at the end.
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
    ];
}
