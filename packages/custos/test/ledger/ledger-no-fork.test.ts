import { createEd25519NoteSigner } from '@custos/verify';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { isCustosError } from '../../src/domain/errors.js';
import { CheckpointSigner } from '../../src/services/ledger/checkpoint-signer.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import { accessEntry, type LedgerFixture, ledgerFixture, TEST_ORIGIN } from './ledger-helpers.js';

let fx: LedgerFixture;
afterEach(() => fx?.cleanup());

const isFork = (e: unknown): boolean => isCustosError(e, 'LEDGER_FORK_REFUSED');

async function filled(n: number): Promise<void> {
  const ledger = await fx.open();
  await Promise.all(Array.from({ length: n }, (_, i) => ledger.append(accessEntry(ledger, i))));
  await ledger.checkpoint();
  await ledger.close();
}

describe('no-fork state', () => {
  it('refuses to sign a smaller tree or a second root for a signed size, across restarts', async () => {
    fx = ledgerFixture();
    await filled(40);
    const open = async (): Promise<{ signer: CheckpointSigner; store: SqliteLedgerStore }> => {
      const store = new SqliteLedgerStore(fx.dbPath);
      const note = await createEd25519NoteSigner(TEST_ORIGIN, loadLedgerKeys(fx.keysDir).signingSeed);
      const signer = new CheckpointSigner(store, note, TEST_ORIGIN, fx.clock, async () => []);
      return { signer, store };
    };
    for (let restart = 0; restart < 2; restart++) {
      const { signer, store } = await open();
      const last = await store.lastCheckpoint();
      expect(last?.size).toBe(40);
      await expect(signer.sign(39, new Uint8Array(32))).rejects.toSatisfy(isFork);
      await expect(signer.sign(0, new Uint8Array(32))).rejects.toSatisfy(isFork);
      await expect(signer.sign(40, new Uint8Array(32).fill(7))).rejects.toSatisfy(isFork);
      // A bigger tree whose consistency proof does not verify is a fork too.
      await expect(signer.sign(41, new Uint8Array(32).fill(7))).rejects.toSatisfy(isFork);
      expect((await signer.sign(40, last?.root ?? new Uint8Array())).note).toBe(last?.note);
      await store.close();
    }
  });

  it('refuses to sign when the stored tree was rewritten under the same size', async () => {
    fx = ledgerFixture();
    await filled(40);
    const db = new Database(fx.dbPath);
    const row = db.prepare('SELECT frontier FROM ledger_tree').get() as { frontier: Buffer };
    row.frontier[0] = (row.frontier[0] ?? 0) ^ 1;
    db.prepare('UPDATE ledger_tree SET frontier = ?').run(row.frontier);
    db.close();
    const ledger = await fx.open();
    await expect(ledger.checkpoint()).rejects.toSatisfy(isFork);
    // Growing the forked tree does not help: it is inconsistent with the signed checkpoint.
    await ledger.append(accessEntry(ledger, 99));
    await expect(ledger.checkpoint()).rejects.toSatisfy(isFork);
    expect((await ledger.latestCheckpoint()).size).toBe(40);
    await ledger.close();
  });

  it('refuses to open a store that lost entries a signed checkpoint covers', async () => {
    fx = ledgerFixture();
    await filled(40);
    const db = new Database(fx.dbPath);
    db.prepare('UPDATE ledger_tree SET size = 32, frontier = substr(frontier, 1, 32)').run();
    db.close();
    await expect(fx.open()).rejects.toSatisfy((e) => isCustosError(e, 'LEDGER_UNAVAILABLE'));
  });
});
