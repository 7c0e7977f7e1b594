import { auditLedger, type BundleCheckPool, MemoryTileSource } from '@custos/verify';
import { createWorkerCheckPool } from '@custos/verify/node';
import { describe, expect, it } from 'vitest';
import { createLog } from './helpers/log-fixture.js';

describe('bundle-checking pool', () => {
  it('a pool that fails (a thread died) makes the audit reject: never reported as tampering', async () => {
    const log = await createLog(600);
    let calls = 0;
    const broken: BundleCheckPool = {
      check: async () => {
        calls++;
        throw new Error('bundle-checking thread exited');
      },
      close: async () => undefined,
    };
    await expect(
      auditLedger(new MemoryTileSource(log.files), { verifiers: log.verifiers, pool: broken }),
    ).rejects.toThrow('bundle-checking thread exited');
    expect(calls).toBeGreaterThan(0);
  });

  it('a real thread that dies mid-audit makes the audit reject, with no report of tampering', async () => {
    const log = await createLog(1500);
    const pool = createWorkerCheckPool(2, {
      workerUrl: new URL('./fixtures/dying-check-worker.mjs', import.meta.url),
    });
    try {
      await expect(
        auditLedger(new MemoryTileSource(log.files), { verifiers: log.verifiers, pool }),
      ).rejects.toThrow('bundle-checking thread exited');
    } finally {
      await pool.close();
    }
  });

  it('checks on real threads, and refuses work once closed', async () => {
    const log = await createLog(1000);
    const pool = createWorkerCheckPool(3);
    const report = await auditLedger(new MemoryTileSource(log.files), { verifiers: log.verifiers, pool });
    expect(report.failures).toEqual([]);
    expect(report.entriesChecked).toBe(1000);
    await pool.close();
    await expect(pool.check(new Uint8Array(0), 1, undefined)).rejects.toThrow('closed');
  });
});
