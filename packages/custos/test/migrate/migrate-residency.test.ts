/**
 * Acceptance: records of non-US subjects stay where residency allows and never move into the US;
 * records with no known jurisdiction are reported, held back and never guessed; runs are
 * idempotent. On the demo world's legacy sources.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoLegacySources } from '../../src/demo/demo-legacy.js';
import { verifyCertificateFile } from '../../src/services/migrate/deletion-certificate.js';
import { countSqlite, type MigrationWorld, newWorld, targetLocations } from './migrate-helpers.js';

describe('migration on the demo world: residency and unknown jurisdictions', () => {
  let w: MigrationWorld;
  let legacyDb: string;
  beforeAll(async () => {
    w = await newWorld();
    demoLegacySources(w.dir);
    legacyDb = join(w.dir, 'legacy', 'us-legacy-dc.sqlite');
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it('plans per site, collection, jurisdiction and category, with unknown ones as protected', async () => {
    const plan = await w.migration.plan();
    const unknown = plan.rows.filter((r) => r.jurisdiction === 'unknown');
    expect(unknown.length).toBeGreaterThan(0);
    for (const r of unknown) {
      expect(r.category).toBe('protected');
      expect(r.move + r.compliant + r.delete).toBe(0);
      expect(r.to).toEqual([]);
    }
    // SG records are only ever headed to the SG site.
    for (const r of plan.rows.filter((x) => x.jurisdiction === 'SG')) expect(r.to).toEqual(['sg-backup']);
    // SG watch history already on sg-backup is compliant; US data there must move.
    const archive = plan.rows.filter((r) => r.site === 'sg-backup');
    expect(archive.find((r) => r.jurisdiction === 'SG')?.compliant).toBeGreaterThan(0);
    expect(archive.find((r) => r.jurisdiction === 'US')?.move).toBeGreaterThan(0);
    expect(plan.totals.unknown).toBe(14);
  });

  it('copies SG subjects to the SG store only, holds back unknown ones, and changes nothing on a re-run', async () => {
    const first = await w.migration.run();
    expect(first.every((r) => r.status === 'copied')).toBe(true);
    expect(first.reduce((n, r) => n + r.held, 0)).toBe(14);
    const locations = await targetLocations(w.custos);
    const sg = locations.filter((l) => l.split('/')[2]?.startsWith('legacy-') && l.startsWith('sg-main/'));
    expect(sg.length).toBeGreaterThan(0);
    for (const l of locations) {
      const [store, , subject] = l.split('/');
      const row = await w.custos.subjectStore.get(subject as string);
      // Held-back (unknown) subjects were never registered, so nothing of theirs was written anywhere.
      expect(row).toBeDefined();
      if (row?.jurisdiction === 'SG') expect(store).toBe('sg-main');
      else expect(store).not.toBe('sg-main');
    }
    for (let i = 7; i <= 28; i += 7)
      expect(await w.custos.subjectStore.get(`legacy-${String(i).padStart(4, '0')}`)).toBeUndefined();
    expect((await w.custos.scanResidency()).violations).toEqual([]);

    const size = w.custos.ledger.size;
    const again = await w.migration.run();
    expect(again.map((r) => r.copiedNow)).toEqual([0, 0, 0, 0]);
    expect(await targetLocations(w.custos)).toEqual(locations);
    expect(w.custos.ledger.size).toBe(size);
  });

  it('purges verified copies only: held-back records stay at the source and withhold the certificate', async () => {
    const before = countSqlite(legacyDb, 'users');
    const reports = await w.migration.purge();
    const withHeld = reports.filter((r) => r.heldBack > 0);
    expect(withHeld.length).toBeGreaterThan(0);
    for (const r of withHeld) {
      expect([r.status, r.error?.code, r.certificate]).toEqual([
        'pending-destruction',
        'DESTRUCTION_PENDING',
        undefined,
      ]);
    }
    const profiles = reports.find((r) => r.dataset === 'us-legacy-db/profiles');
    expect(countSqlite(legacyDb, 'users')).toBe(4);
    expect(before - 4).toBe(profiles?.deleted);
    const db = new Database(legacyDb, { readonly: true });
    const left = db.prepare('SELECT user_id FROM users').pluck().all() as string[];
    db.close();
    expect(left.sort()).toEqual(['legacy-0007', 'legacy-0014', 'legacy-0021', 'legacy-0028']);
    for (const r of reports.filter((x) => x.heldBack === 0)) {
      expect(r.status).toBe('purged');
      const verdict = await verifyCertificateFile(readFileSync(r.certificate as string, 'utf8'), [
        w.custos.ledger.verifierKey,
      ]);
      expect(verdict.ok, JSON.stringify(verdict.failed)).toBe(true);
      expect(verdict.certificate?.count).toBe(r.deleted);
      expect(verdict.certificate?.heldBack).toBe(r.heldBack);
    }
    const archive = reports.find((r) => r.dataset === 'sg-backup-archive/watch_history');
    expect(archive?.heldBack).toBe(0);
  });
});

describe('unknown jurisdictions, once resolved, move on the next run', () => {
  it('copies a held-back record after its account appears', async () => {
    const w = await newWorld();
    try {
      demoLegacySources(w.dir);
      await w.migration.run(['us-legacy-db/profiles']);
      const db = new Database(join(w.dir, 'legacy', 'us-legacy-dc.sqlite'));
      db.prepare('INSERT INTO accounts VALUES (?, ?)').run('legacy-0007', 'SG');
      db.close();
      await w.close();
      const again = await (await import('./migrate-helpers.js')).openWorld(w.dir);
      try {
        const [r] = await again.migration.run(['us-legacy-db/profiles']);
        expect(r?.copiedNow).toBe(1);
        expect(r?.held).toBe(3);
        expect((await again.custos.subjectStore.get('legacy-0007'))?.jurisdiction).toBe('SG');
        expect(await again.custos.stores.get('sg-main')?.get('legacy-0007', 'profiles', 'p-7')).toBeDefined();
      } finally {
        await again.close();
      }
    } finally {
      await w.cleanup();
    }
  });
});
