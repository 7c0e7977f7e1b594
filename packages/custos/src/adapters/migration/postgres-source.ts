import { canonicalize } from '@custos/verify';
import type { SourceLocation } from '../../domain/migration-config.js';
import type { PostgresSpec } from '../../domain/postgres-config.js';
import type { MigrationSource, SourcePage, SourceRow } from '../../ports/migration-source.js';
import { resolvePgOptions } from '../postgres/pg-connection.js';
import { type PgPoolLease, PgPoolRegistry } from '../postgres/pg-pools.js';
import { withTransaction } from '../postgres/pg-transaction.js';
import { keyNotUnique, quoteName, sourceUnavailable, tableOf } from './source-errors.js';

/**
 * A row as the copy sees it: `pg` gives timestamps as `Date`, json/jsonb as parsed values and bytea
 * as `Buffer`; they become an ISO 8601 string, canonical (RFC 8785) JSON text and base64, so they
 * are copied as scalars and digest the same at copy and at deletion.
 */
export function normaliseRow(row: SourceRow): SourceRow {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(row)) {
    let n: unknown = v;
    if (v instanceof Date) n = Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    else if (Buffer.isBuffer(v)) n = v.toString('base64');
    else if (typeof v === 'object' && v !== null) n = canonicalize(v);
    else continue;
    out ??= { ...row };
    out[k] = n;
  }
  return out ?? row;
}

/**
 * A legacy PostgreSQL database as a migration source. Tables are read from the connection's
 * `schema` in key order; deletion locks the rows, re-checks each one and deletes in one transaction.
 */
export class PostgresMigrationSource implements MigrationSource {
  private constructor(
    readonly id: string,
    private readonly lease: PgPoolLease,
    private readonly schema: string,
  ) {}

  /** Connects (one round trip, so an unreachable server fails here with `MIGRATION_SOURCE_UNAVAILABLE`). */
  static async open(id: string, spec: PostgresSpec): Promise<PostgresMigrationSource> {
    const lease = new PgPoolRegistry().acquire(resolvePgOptions(spec));
    const source = new PostgresMigrationSource(id, lease, spec.schema);
    try {
      await lease.pool.query('SELECT 1');
    } catch (err) {
      await lease.release().catch(() => {});
      throw sourceUnavailable(id, 'cannot connect to the PostgreSQL database', err);
    }
    return source;
  }

  private table(location: SourceLocation): string {
    return `${quoteName(this.schema)}.${quoteName(tableOf(location, this.id))}`;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw sourceUnavailable(this.id, what, err);
    }
  }

  async read(location: SourceLocation, cursor: string | undefined, limit: number): Promise<SourcePage> {
    const t = this.table(location);
    const k = quoteName(location.keyField);
    const { rows } = await this.guard('cannot read the table', () =>
      cursor === undefined
        ? this.lease.pool.query<SourceRow>(`SELECT * FROM ${t} ORDER BY ${k} LIMIT $1`, [limit])
        : this.lease.pool.query<SourceRow>(`SELECT * FROM ${t} WHERE ${k} > $1 ORDER BY ${k} LIMIT $2`, [
            JSON.parse(cursor),
            limit,
          ]),
    );
    const items = rows.map(normaliseRow).map((row) => {
      const key = JSON.stringify(row[location.keyField] ?? null);
      return { at: `${location.keyField}=${key}`, key, row, error: undefined };
    });
    return { items, cursor: items.length === 0 ? undefined : items[items.length - 1]?.key };
  }

  async checkKey(location: SourceLocation): Promise<void> {
    const k = quoteName(location.keyField);
    const { rows } = await this.guard('cannot check the id column', () =>
      this.lease.pool.query<{ rows: string; d: string; nulls: string }>(
        `SELECT count(*) AS rows, count(DISTINCT ${k}) AS d, count(*) - count(${k}) AS nulls FROM ${this.table(location)}`,
      ),
    );
    const c = {
      rows: Number(rows[0]?.rows ?? 0),
      distinct: Number(rows[0]?.d ?? 0),
      nulls: Number(rows[0]?.nulls ?? 0),
    };
    if (c.nulls > 0 || c.distinct !== c.rows) {
      throw keyNotUnique(this.id, tableOf(location, this.id), location.keyField, c);
    }
  }

  async count(location: SourceLocation): Promise<number> {
    const { rows } = await this.guard('cannot count the table', () =>
      this.lease.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table(location)}`),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async exists(location: SourceLocation): Promise<boolean> {
    const { rows } = await this.guard('cannot list tables', () =>
      this.lease.pool.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [
        this.schema,
        tableOf(location, this.id),
      ]),
    );
    return rows.length > 0;
  }

  async delete(
    location: SourceLocation,
    keys: readonly string[],
    confirm: (row: SourceRow) => boolean,
  ): Promise<number> {
    const t = this.table(location);
    const k = quoteName(location.keyField);
    return this.guard('cannot delete rows', () =>
      withTransaction(this.lease.pool, async (tx) => {
        const values = keys.map((key) => JSON.parse(key) as unknown);
        // Locks the rows and deletes exactly the confirmed ones by their row address (ctid), never
        // by key: a key shared by two rows (no unique constraint) deletes neither.
        const { rows } = await tx.query<SourceRow & { custos_ctid: string }>(
          `SELECT ctid::text AS custos_ctid, * FROM ${t} WHERE ${k} = ANY($1) FOR UPDATE`,
          [values],
        );
        const perKey = new Map<string, number>();
        for (const r of rows) {
          const key = JSON.stringify(r[location.keyField] ?? null);
          perKey.set(key, (perKey.get(key) ?? 0) + 1);
        }
        const confirmed = rows
          .filter((r) => perKey.get(JSON.stringify(r[location.keyField] ?? null)) === 1)
          .filter((r) => {
            const { custos_ctid: _, ...row } = r;
            return confirm(normaliseRow(row));
          })
          .map((r) => r.custos_ctid);
        if (confirmed.length === 0) return 0;
        const res = await tx.query(`DELETE FROM ${t} WHERE ctid = ANY($1::tid[])`, [confirmed]);
        return res.rowCount ?? 0;
      }),
    );
  }

  async shred(): Promise<void> {
    throw sourceUnavailable(this.id, 'a PostgreSQL source holds no key Custos could destroy');
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}
