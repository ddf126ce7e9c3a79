using System.Buffers.Binary;
using Kata3.Contracts;
using Npgsql;

namespace Kata3.Worker.Retention;

/// <summary>
/// Pruning statements, each over at most one batch of rows and each walking an index in time
/// order: ids are UUIDv7, so "created before the cutoff" is "id below the cutoff's lowest
/// UUIDv7", a range at the start of the primary key. A batch's cost depends on its size, not on
/// how many rows the tables hold.
/// </summary>
internal sealed class RetentionStore(NpgsqlDataSource dataSource)
{
    // Any fixed number: it names the lock that lets one replica at a time prune.
    private const long PruningLockId = 0x6B61746137;

    /// <summary>
    /// A connection holding the pruning lock, or null when another replica holds it. The lock is
    /// the session's: it goes when the connection is disposed or the worker dies.
    /// </summary>
    public async Task<PruningSession?> TryLeadAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@id)", connection);
            command.Parameters.AddWithValue("id", PruningLockId);
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return new PruningSession(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>The lowest UUIDv7 of the given instant: every id created before it sorts below it.</summary>
    public static Guid LowestIdAt(DateTimeOffset instant)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, instant.ToUnixTimeMilliseconds() << 16);
        return new Guid(bytes, bigEndian: true);
    }

    internal sealed class PruningSession(NpgsqlConnection connection) : IAsyncDisposable
    {
        /// <summary>
        /// Looks at the next batch of attempt rows (after the cursor, of jobs created before
        /// <paramref name="createdBefore"/>) and deletes those of jobs completed before
        /// <paramref name="completedBefore"/> or dead or cancelled since before <paramref name="diedBefore"/>
        /// (a cancelled job is kept as long as a dead one: both are what an operator looks back at).
        /// Rows it keeps are stepped over by the cursor, so they are not read twice in a round.
        /// </summary>
        public async Task<AttemptBatch> PruneAttemptsAsync(AttemptCursor after, Guid createdBefore,
            DateTimeOffset completedBefore, DateTimeOffset diedBefore, int limit, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand("""
                WITH batch AS (
                    SELECT job_id, attempt FROM job_attempts
                    WHERE (job_id, attempt) > (@after_job, @after_attempt) AND job_id < @created_before
                    ORDER BY job_id, attempt
                    LIMIT @limit
                ), pruned AS (
                    DELETE FROM job_attempts a
                    USING batch b, jobs j
                    WHERE a.job_id = b.job_id AND a.attempt = b.attempt AND j.id = b.job_id
                      AND ((j.status = @completed AND j.completed_at < @completed_before)
                        OR (j.status IN (@dead, @cancelled) AND j.updated_at < @died_before))
                    RETURNING 1
                ), last AS (
                    SELECT job_id, attempt FROM batch ORDER BY job_id DESC, attempt DESC LIMIT 1
                )
                SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM pruned),
                       (SELECT job_id FROM last), (SELECT attempt FROM last)
                """, connection);
            command.Parameters.AddWithValue("after_job", after.JobId);
            command.Parameters.AddWithValue("after_attempt", after.Attempt);
            command.Parameters.AddWithValue("created_before", createdBefore);
            command.Parameters.AddWithValue("completed", JobStatus.Completed);
            command.Parameters.AddWithValue("completed_before", completedBefore);
            command.Parameters.AddWithValue("dead", JobStatus.Dead);
            command.Parameters.AddWithValue("cancelled", JobStatus.Cancelled);
            command.Parameters.AddWithValue("died_before", diedBefore);
            command.Parameters.AddWithValue("limit", limit);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var scanned = (int)reader.GetInt64(0);
            var pruned = (int)reader.GetInt64(1);
            var next = scanned == 0 ? after : new AttemptCursor(reader.GetGuid(2), reader.GetInt32(3));
            return new AttemptBatch(scanned, pruned, next);
        }

        /// <summary>
        /// Clears the idempotency key and request hash of the next batch of orders accepted before
        /// <paramref name="createdBefore"/>, so each key can be used again. Orders still holding a
        /// key are found through their own partial index, without reading the other orders.
        /// </summary>
        public async Task<int> ExpireIdempotencyKeysAsync(Guid createdBefore, int limit, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand("""
                WITH expired AS (
                    SELECT id FROM orders
                    WHERE idempotency_key IS NOT NULL AND id < @created_before
                    ORDER BY id
                    LIMIT @limit
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE orders SET idempotency_key = NULL, request_hash = NULL
                FROM expired WHERE orders.id = expired.id
                """, connection);
            command.Parameters.AddWithValue("created_before", createdBefore);
            command.Parameters.AddWithValue("limit", limit);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@id)", connection);
                command.Parameters.AddWithValue("id", PruningLockId);
                await command.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // A broken connection has ended its session, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}

/// <summary>Where a round's walk through job_attempts' primary key has got to.</summary>
internal readonly record struct AttemptCursor(Guid JobId, int Attempt)
{
    public static AttemptCursor Start => new(Guid.Empty, 0);
}

internal readonly record struct AttemptBatch(int Scanned, int Pruned, AttemptCursor Next);
