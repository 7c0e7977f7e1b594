import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  fromBase64,
  hashLeaf,
  MerkleTree,
  parseEntry,
  parseVerifierKey,
  SUBJECT_REF_PATTERN,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@custos/verify';
import { afterEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/domain/errors.js';
import { exportLedger } from '../../src/services/ledger/ledger-export.js';
import { SIGNING_KEY_FILE, SUBJECT_REF_KEY_FILE } from '../../src/services/ledger/ledger-keys.js';
import {
  accessEntry,
  type LedgerFixture,
  ledgerFixture,
  runVerifier,
  TEST_ORIGIN,
} from './ledger-helpers.js';

let fx: LedgerFixture;
afterEach(() => fx?.cleanup());

describe('LedgerService', () => {
  it('creates its keys 0600 on first start and keeps them across restarts', async () => {
    fx = ledgerFixture();
    const a = await fx.open();
    for (const f of [SIGNING_KEY_FILE, SUBJECT_REF_KEY_FILE]) {
      expect(statSync(join(fx.keysDir, f)).mode & 0o777).toBe(0o600);
    }
    const ref = a.subjectRef('alice');
    expect(ref).toMatch(SUBJECT_REF_PATTERN);
    expect(ref).not.toContain('alice');
    await a.close();
    const b = await fx.open();
    expect(b.subjectRef('alice')).toBe(ref);
    expect(b.verifierKey).toBe(a.verifierKey);
    expect(parseVerifierKey(b.verifierKey).name).toBe(TEST_ORIGIN);
    await b.close();
  });

  it('group-commits 1000 concurrent appends into few transactions, dense indexes in order', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open({ maxBatch: 256, maxWaitMs: 5 });
    const inputs = Array.from({ length: 1000 }, (_, i) => accessEntry(ledger, i));
    const results = await Promise.all(inputs.map((e) => ledger.append(e)));
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const stats = (await ledger.health()).commits;
    expect(stats.items).toBe(1000);
    expect(stats.batches).toBeLessThanOrEqual(8);
    // The stored tree is the RFC 6962 tree of the canonical entries, in submission order.
    const tree = new MerkleTree();
    for (const e of inputs) tree.append(ledger.encode(e));
    const cp = await ledger.checkpoint();
    expect(Buffer.from(cp.root).equals(Buffer.from(tree.root()))).toBe(true);
    await ledger.close();
  });

  it('serves receipts and consistency proofs that verify against signed checkpoints', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    const verifier = parseVerifierKey(ledger.verifierKey);
    const signed: { size: number; root: Uint8Array }[] = [];
    let n = 0;
    for (const count of [1, 2, 5, 300, 17]) {
      await Promise.all(Array.from({ length: count }, () => ledger.append(accessEntry(ledger, n++))));
      const { checkpoint } = await verifyCheckpoint((await ledger.checkpoint()).note, [verifier]);
      signed.push({ size: checkpoint.size, root: checkpoint.root });
    }
    expect(signed.map((s) => s.size)).toEqual([1, 3, 8, 308, 325]);
    for (const index of [0, 1, 7, 255, 256, 307, 324]) {
      const r = await ledger.receipt(index);
      const { checkpoint } = await verifyCheckpoint(r.checkpoint, [verifier]);
      expect(parseEntry(Buffer.from(r.entry)).type).toBe('access');
      verifyInclusion(
        index,
        checkpoint.size,
        hashLeaf(Buffer.from(r.entry)),
        r.proof.map(fromBase64),
        checkpoint.root,
      );
    }
    for (const a of signed) {
      for (const b of signed) {
        if (a.size >= b.size) continue;
        verifyConsistency(
          a.size,
          b.size,
          a.root,
          b.root,
          (await ledger.consistency(a.size, b.size)).map(fromBase64),
        );
      }
    }
    await expect(ledger.receipt(325)).rejects.toSatisfy((e) => isCustosError(e, 'ENTRY_NOT_FOUND'));
    await expect(ledger.consistency(5, 326)).rejects.toSatisfy((e) => isCustosError(e, 'BAD_REQUEST'));
    await expect(ledger.consistency(6, 5)).rejects.toSatisfy((e) => isCustosError(e, 'BAD_REQUEST'));
    await ledger.close();
  });

  it('places its batches again when another writer grew the tree (the CLI beside a server)', async () => {
    fx = ledgerFixture();
    const server = await fx.open();
    await server.append(accessEntry(server, 0));
    // A second writer on the same file, as `custos subject erase` beside a running server.
    const cli = await fx.open();
    await Promise.all([1, 2, 3].map((i) => cli.append(accessEntry(cli, i))));
    await cli.close();
    // The server still holds a tree of 1 entry; the store has 4. Two batches (512 + 88) go out at
    // once: both are refused (LEDGER_MOVED), then placed again on the stored tree.
    const placed = await Promise.all(
      Array.from({ length: 600 }, (_, i) => server.append(accessEntry(server, 10 + i))),
    );
    expect(placed.map((p) => p.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 600 }, (_, i) => 4 + i),
    );
    expect((await server.checkpoint()).size).toBe(604);
    const out = join(fx.dir, 'export');
    await exportLedger(server, out);
    const verified = await runVerifier(['ledger', '--dir', out, '--key', server.verifierKey]);
    expect(verified.out).toContain('entries checked: 604');
    expect(verified.code).toBe(0);
    await server.close();
  });

  it('rejects an entry that breaks the schema with VALIDATION_FAILED, before queueing it', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    const bad = { ...accessEntry(ledger, 1), resource: { subjectRef: 'alice' } };
    await expect(ledger.append(bad)).rejects.toSatisfy((e) => isCustosError(e, 'VALIDATION_FAILED'));
    expect(ledger.size).toBe(0);
    await ledger.close();
  });
});
