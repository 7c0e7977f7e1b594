import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { type Custos, createCustos } from '../../src/composition-root.js';
import { createMigration } from '../../src/migration-root.js';
import type { MigrationService } from '../../src/services/migrate/migration-service.js';
import { configFrom, demoConfigObject, TestClock, tempDir } from '../helpers.js';

/** A Custos with its migration service on the demo config, with a replaced `migration` section. */
export interface MigrationWorld {
  readonly custos: Custos;
  readonly migration: MigrationService;
  readonly dir: string;
  /** The config written as YAML, for the CLI and child processes. */
  readonly configPath: string;
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Opens (or reopens) a world in `dir` with the given `migration` section (demo's when undefined). */
export async function openWorld(dir: string, migration?: Record<string, unknown>): Promise<MigrationWorld> {
  const obj = demoConfigObject(dir);
  if (migration !== undefined) obj.migration = migration;
  // Checkpoints only when asked for: a certificate's receipt signs one.
  obj.ledger = { ...(obj.ledger as object), checkpointIntervalMs: 3_600_000 };
  const configPath = join(dir, 'custos.yaml');
  writeFileSync(configPath, stringify(obj));
  const custos = await createCustos(configFrom(obj, dir), { clock: new TestClock(Date.now()) });
  const migrationService = await createMigration(custos);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await migrationService.close();
    await custos.close();
  };
  return { custos, migration: migrationService, dir, configPath, close, cleanup: close };
}

/** A fresh world in a new temp dir; `cleanup` also removes the dir. */
export async function newWorld(migration?: Record<string, unknown>): Promise<MigrationWorld> {
  const t = tempDir('custos-migrate-');
  const world = await openWorld(t.dir, migration);
  return {
    ...world,
    cleanup: async () => {
      await world.close();
      t.cleanup();
    },
  };
}

/** Writes a SQLite source table `name` with the given columns and rows. */
export function writeSqliteTable(
  path: string,
  name: string,
  columns: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): void {
  const db = new Database(path);
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (${columns.map((c, i) => (i === 0 ? `${c} PRIMARY KEY` : c)).join(', ')})`,
    );
    const insert = db.prepare(`INSERT INTO ${name} VALUES (${columns.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (const r of rows) insert.run(...r);
    })();
  } finally {
    db.close();
  }
}

/** Number of rows in a SQLite source table. */
export function countSqlite(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  } finally {
    db.close();
  }
}

/** Every record location in every open store of a Custos, as `store/collection/subject/id`. */
export async function targetLocations(custos: Custos): Promise<string[]> {
  const out: string[] = [];
  for (const [id, store] of custos.stores) {
    let after: { collection: string; subject: string; id: string } | undefined;
    for (;;) {
      const page = await store.scan(after, 1000);
      if (page.length === 0) break;
      for (const l of page) out.push(`${id}/${l.collection}/${l.subject}/${l.id}`);
      after = page[page.length - 1];
    }
  }
  return out;
}
