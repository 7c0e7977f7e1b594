import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import type { PgPool } from '../src/adapters/postgres/pg-types.js';

/** The PostgreSQL the tests use (`scripts/pg-test-cluster.sh start` prints it). */
export const PG_URL = process.env.CUSTOS_PG_URL;

const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/**
 * Registers `body` when a PostgreSQL is configured. Outside CI without `CUSTOS_PG_URL` the tests
 * are skipped with a message saying how to run them; in CI a missing URL is a failing test.
 */
export function withPostgres(name: string, body: (url: string) => void): void {
  if (PG_URL) {
    body(PG_URL);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      it('needs CUSTOS_PG_URL in CI', () => {
        throw new Error('CI is set but CUSTOS_PG_URL is not: start PostgreSQL (scripts/pg-test-cluster.sh)');
      });
    });
    return;
  }
  console.warn(`skipping "${name}": CUSTOS_PG_URL is unset (start one with scripts/pg-test-cluster.sh)`);
  describe.skip(`${name} (skipped: CUSTOS_PG_URL is unset; see docs/postgres.md)`, () => {
    it('runs against PostgreSQL', () => {});
  });
}

/** A fresh, unique schema name for one test. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A small pool on the test database, and a cleanup that drops the given schemas then ends it. */
export function testPool(url: string): {
  pool: PgPool & pg.Pool;
  dropAndEnd: (...schemas: string[]) => Promise<void>;
} {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  return {
    pool,
    dropAndEnd: async (...schemas: string[]) => {
      for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await pool.end();
    },
  };
}
