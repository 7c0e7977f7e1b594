/**
 * Acceptance: a certificate whose root, count or signature was altered fails verify-certificate;
 * a source that cannot delete rows and whose key Custos does not hold blocks its certificate until
 * destroyed; a batch the ledger cannot record does not count (fail closed).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import { verifyCertificateFile } from '../../src/services/migrate/deletion-certificate.js';
import { runCli } from '../cli-helpers.js';
import { type MigrationWorld, newWorld } from './migrate-helpers.js';

const LINES = Array.from({ length: 5 }, (_, i) =>
  JSON.stringify({ id: `w${i}`, uid: `u${i % 2}`, video_id: `v${i}` }),
);

function section(deletable: boolean): Record<string, unknown> {
  return {
    batchSize: 2,
    accounts: {
      source: 'accounts',
      file: 'accounts.csv',
      subjectField: 'user_id',
      jurisdictionField: 'country',
    },
    sources: [
      {
        id: 'accounts',
        site: 'us-legacy-dc',
        kind: 'csv',
        datasets: [{ collection: 'public_videos', file: 'none.csv', subjectField: 'x', fields: ['title'] }],
      },
      {
        id: 'archive',
        site: 'sg-backup',
        kind: 'ndjson',
        deletable,
        datasets: [
          { collection: 'watch_history', file: 'watch.ndjson', subjectField: 'uid', fields: ['video_id'] },
        ],
      },
    ],
  };
}

async function world(deletable: boolean): Promise<MigrationWorld> {
  const w = await newWorld(section(deletable));
  writeFileSync(join(w.dir, 'accounts.csv'), 'user_id,country\nu0,US\nu1,SG\n');
  writeFileSync(join(w.dir, 'watch.ndjson'), `${LINES.join('\n')}\n`);
  return w;
}

describe('verify-certificate', () => {
  let w: MigrationWorld;
  let path: string;
  let original: Record<string, unknown>;
  beforeAll(async () => {
    w = await world(true);
    await w.migration.run(['archive']);
    const [r] = await w.migration.purge(['archive']);
    path = r?.certificate as string;
    original = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  });
  afterAll(async () => {
    await w.cleanup();
  });

  async function verify(file: Record<string, unknown>, ...extra: string[]) {
    const p = join(w.dir, 'tampered.json');
    writeFileSync(p, JSON.stringify(file));
    return runCli('migrate', 'verify-certificate', p, ...extra);
  }

  it('passes on the issued certificate, with the key pinned', async () => {
    const r = await runCli('migrate', 'verify-certificate', path, '--key', w.custos.ledger.verifierKey);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('ok    inclusion');
    expect(r.out).toContain('certificate valid: 5 record(s) of watch_history deleted at sg-backup');
  });

  const note = (): string => original.note as string;
  const body = (): Record<string, unknown> =>
    JSON.parse(note().split('\n')[0] as string) as Record<string, unknown>;
  const withBody = (patch: Record<string, unknown>): string =>
    note().replace(note().split('\n')[0] as string, JSON.stringify({ ...body(), ...patch }));

  const cases: [string, () => Record<string, unknown>, string][] = [
    ['the signed root', () => ({ ...original, note: withBody({ root: `${'A'.repeat(43)}=` }) }), 'signature'],
    ['the signed count', () => ({ ...original, note: withBody({ count: 4 }) }), 'signature'],
    [
      'the listed digests (root)',
      () => ({ ...original, digests: [...(original.digests as string[]).slice(1), 'ab'.repeat(32)] }),
      'root',
    ],
    [
      'the listed digests (count)',
      () => ({ ...original, digests: (original.digests as string[]).slice(1) }),
      'count',
    ],
    [
      'the signature',
      () => {
        const lines = note().split('\n');
        const sig = lines[lines.length - 2] as string;
        const b = Buffer.from(sig.split(' ')[2] as string, 'base64');
        b[b.length - 1] = (b[b.length - 1] as number) ^ 1;
        lines[lines.length - 2] = `${sig.split(' ').slice(0, 2).join(' ')} ${b.toString('base64')}`;
        return { ...original, note: lines.join('\n') };
      },
      'signature',
    ],
    [
      'the ledger entry',
      () => ({ ...original, ledger: { ...(original.ledger as object), entry: '{}' } }),
      'ledger-entry',
    ],
    [
      'the inclusion proof',
      () => ({
        ...original,
        ledger: { ...(original.ledger as object), index: (original.ledger as { index: number }).index + 1 },
      }),
      'inclusion',
    ],
  ];
  for (const [what, tamper, check] of cases) {
    it(`fails when ${what} is altered (${check} check)`, async () => {
      const r = await verify(tamper(), '--key', w.custos.ledger.verifierKey);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`FAIL  ${check}:`);
      expect(r.err).toContain('error CERTIFICATE_INVALID');
    });
  }

  it('refuses without a pinned key (CERTIFICATE_UNTRUSTED), even on a genuine certificate', async () => {
    const r = await runCli('migrate', 'verify-certificate', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error CERTIFICATE_UNTRUSTED');
    expect(r.out).not.toContain('certificate valid');
  });

  it('fails on a forged, self-consistent certificate signed with a fresh key', async () => {
    const forger = await world(true);
    try {
      await forger.migration.run(['archive']);
      const [r] = await forger.migration.purge(['archive']);
      const forged = readFileSync(r?.certificate as string, 'utf8');
      // Self-consistent: it verifies against the key it carries...
      const own = JSON.parse(forged) as { verifierKey: string };
      expect((await verifyCertificateFile(forged, [own.verifierKey])).ok).toBe(true);
      // ...but not against the custodian's pinned key, and not at all without one.
      const verdict = await verifyCertificateFile(forged, [w.custos.ledger.verifierKey]);
      expect([verdict.ok, verdict.failed?.check]).toEqual([false, 'signature']);
      const err = await verifyCertificateFile(forged, []).catch((e: unknown) => e);
      expect(isCustosError(err, 'CERTIFICATE_UNTRUSTED')).toBe(true);
    } finally {
      await forger.cleanup();
    }
  });

  it('fails against another custodian key, and on a file that is not a certificate', async () => {
    const other = `demo.custos.local/custos/US+00000000+${Buffer.alloc(33, 1).fill(1, 0, 1).toString('base64')}`;
    expect((await verify(original, '--key', other)).code).toBe(1);
    expect((await verify({ hello: 'world' }, '--key', w.custos.ledger.verifierKey)).out).toContain(
      'FAIL  format',
    );
  });
});

describe('sources that cannot delete rows', () => {
  it('without a key Custos holds: pending destruction blocks the certificate until the source is gone', async () => {
    const w = await world(false);
    try {
      await w.migration.run(['archive']);
      const [first] = await w.migration.purge(['archive']);
      expect(first?.status).toBe('pending-destruction');
      expect(first?.error?.code).toBe('DESTRUCTION_PENDING');
      expect(first?.certificate).toBeUndefined();
      expect(readFileSync(join(w.dir, 'watch.ndjson'), 'utf8')).toBe(`${LINES.join('\n')}\n`);
      const cli = await runCli('migrate', 'purge', '-c', w.configPath, '--dataset', 'archive');
      expect(cli.code).toBe(1);
      expect((await w.migration.status()).find((s) => s.dataset === 'archive/watch_history')?.phase).toBe(
        'pending-destruction',
      );
      rmSync(join(w.dir, 'watch.ndjson'));
      const [done] = await w.migration.purge(['archive']);
      expect(done?.status).toBe('purged');
      const cert = JSON.parse(readFileSync(done?.certificate as string, 'utf8')) as { note: string };
      expect(cert.note).toContain('"method":"destroyed"');
    } finally {
      await w.cleanup();
    }
  });
});

describe('fail closed', () => {
  it('a batch the ledger cannot record is not checkpointed', async () => {
    const w = await world(true);
    try {
      await w.custos.ledger.close();
      const err = await w.migration.run(['archive']).catch((e: unknown) => e);
      expect(isCustosError(err, 'LEDGER_UNAVAILABLE')).toBe(true);
      const status = (await w.migration.status()).find((s) => s.dataset === 'archive/watch_history');
      expect(status?.copied ?? 0).toBe(0);
      expect(status?.batches ?? 0).toBe(0);
    } finally {
      await w.migration.close();
      await w.custos.close().catch(() => {});
      rmSync(w.dir, { recursive: true, force: true });
    }
  });
});
