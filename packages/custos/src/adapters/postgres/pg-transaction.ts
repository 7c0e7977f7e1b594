import type { PgPool, PgQueryable } from './pg-types.js';

/**
 * Runs `fn` in one transaction on a client lent by the pool. Commits on success, rolls back on
 * failure, and discards the connection when the rollback itself fails (it is likely broken).
 * `begin` may name the isolation level (`BEGIN ISOLATION LEVEL …`) where correctness depends on
 * it, instead of inheriting the server's `default_transaction_isolation`.
 */
export async function withTransaction<T>(
  pool: PgPool,
  fn: (tx: PgQueryable) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch {
      client.release(true);
    }
    throw err;
  }
}
