import { MerkleTree } from '@custos/verify';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { isCustosError } from '../../src/domain/errors.js';
import type { LedgerBatch, LedgerStore, LedgerTreeState } from '../../src/ports/ledger-store.js';
import type { LedgerEntryInput, SharedLedger } from '../../src/services/ledger/ledger-service.js';
import { accessEntry, type LedgerFixture, ledgerFixture } from './ledger-helpers.js';

let fx: LedgerFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** An entry of `n` details members of 1000 copies of `ch` (ASCII: 1 byte each; 'é': 2). */
function bulky(ledger: Parameters<typeof accessEntry>[0], n: number, ch: string): LedgerEntryInput {
  const details: Record<string, string> = {};
  for (let k = 0; k < n; k++) details[`k${k}`] = ch.repeat(1000);
  return { ...accessEntry(ledger, 1), details };
}

const tooLong = (e: unknown): boolean =>
  isCustosError(e, 'VALIDATION_FAILED') && String((e as Error).message).includes('65535 bytes');

describe('ledger entry bytes', () => {
  it('refuses an entry over 65535 bytes of UTF-8, by characters or by bytes, and goes on intact', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    // 70,000 ASCII characters; and 35,000 characters that are 70,000 bytes of UTF-8.
    for (const big of [bulky(ledger, 70, 'x'), bulky(ledger, 35, 'é')]) {
      await expect(ledger.append(big)).rejects.toSatisfy(tooLong);
      expect(() => ledger.encode(big)).toThrow(/65535 bytes/);
    }
    // Just under the limit in bytes is fine, and what follows a refused entry is stored whole.
    const fits = bulky(ledger, 32, 'é');
    const next = accessEntry(ledger, 2);
    const [a, b] = await Promise.all([ledger.append(fits), ledger.append(next)]);
    expect([a.index, b.index]).toEqual([0, 1]);
    const stored = await (ledger as unknown as { store: LedgerStore }).store.readEntries(0, 2);
    expect(Buffer.from(stored[0] as Uint8Array).equals(Buffer.from(ledger.encode(fits)))).toBe(true);
    expect(Buffer.from(stored[1] as Uint8Array).equals(Buffer.from(ledger.encode(next)))).toBe(true);
    await ledger.close();
  });

  it('refuses an append made from inside another entry being encoded, and stores both others whole', async () => {
    fx = ledgerFixture();
    const ledger = await fx.open();
    let nested: Promise<unknown> | undefined;
    const sneaky = {
      ...accessEntry(ledger, 4),
      get action() {
        nested ??= ledger.append(accessEntry(ledger, 5));
        return 'read';
      },
    };
    const first = ledger.append(sneaky);
    await expect(nested).rejects.toSatisfy(
      (e) => isCustosError(e, 'VALIDATION_FAILED') && /being encoded/.test(String((e as Error).message)),
    );
    const second = ledger.append(accessEntry(ledger, 6));
    expect([(await first).index, (await second).index]).toEqual([0, 1]);
    const stored = await (ledger as unknown as { store: LedgerStore }).store.readEntries(0, 2);
    const plain = ledger.encode({ ...accessEntry(ledger, 4), action: 'read' });
    expect(Buffer.from(stored[0] as Uint8Array).equals(Buffer.from(plain))).toBe(true);
    expect(
      Buffer.from(stored[1] as Uint8Array).equals(Buffer.from(ledger.encode(accessEntry(ledger, 6)))),
    ).toBe(true);
    await ledger.close();
  });

  it('refuses an oversize entry in shared mode before it reaches the queue', async () => {
    fx = ledgerFixture();
    const sent: Uint8Array[] = [];
    const shared: SharedLedger = {
      append: async (entry) => sent.push(entry) - 1,
      isSequencer: () => false,
      close: async () => undefined,
    };
    const ledger = await fx.open({ shared });
    await expect(ledger.append(bulky(ledger, 35, 'é'))).rejects.toSatisfy(tooLong);
    await expect(ledger.append(bulky(ledger, 70, 'x'))).rejects.toSatisfy(tooLong);
    expect(sent).toEqual([]);
    const ok = accessEntry(ledger, 3);
    expect(await ledger.append(ok)).toEqual({ index: 0 });
    expect(Buffer.from(sent[0] as Uint8Array).equals(Buffer.from(ledger.encode(ok)))).toBe(true);
    await ledger.close();
  });

  it('stores every acknowledged entry under its own index while commits and reloads fail at random', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 3 }),
        async (seed, inFlight) => {
          fx = ledgerFixture();
          let rnd = seed;
          let armed = false;
          const coin = (p: number): boolean => {
            rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
            return armed && rnd / 2 ** 31 < p;
          };
          const real = new SqliteLedgerStore(fx.dbPath, { busyTimeoutMs: 100 });
          // Fails a commit before or after it reached the disk, and a reload of the tree.
          const flaky: LedgerStore = Object.assign(Object.create(real) as LedgerStore, {
            readTree: async (): Promise<LedgerTreeState> => {
              if (coin(0.05)) throw new Error('injected: cannot read the tree');
              return real.readTree();
            },
            appendBatch: async (batch: LedgerBatch): Promise<void> => {
              if (coin(0.05)) throw new Error('injected: before commit');
              await real.appendBatch(batch);
              if (coin(0.05)) throw new Error('injected: after commit');
            },
          });
          const ledger = await fx.open({ maxBatch: 7, maxInFlight: inFlight }, flaky);
          armed = true;
          const acked = new Map<number, string>();
          const inputs = Array.from({ length: 300 }, (_, i) => {
            const e = accessEntry(ledger, i);
            // Varied lengths, some non-ASCII, so batches cut runs at different places.
            return { ...e, purpose: `p${i}${'é'.repeat(i % 13)}${'x'.repeat((i * 37) % 200)}` };
          });
          await Promise.all(
            inputs.map(async (input) => {
              try {
                const { index } = await ledger.append(input);
                acked.set(index, Buffer.from(ledger.encode(input)).toString());
              } catch (err) {
                if (!isCustosError(err, 'LEDGER_UNAVAILABLE')) throw err;
              }
            }),
          );
          // Heal the store: the next append reloads the tree if a commit failed, and lands last.
          armed = false;
          const last = accessEntry(ledger, 1000);
          const { index: lastIndex } = await ledger.append(last);
          acked.set(lastIndex, Buffer.from(ledger.encode(last)).toString());
          const size = (await real.readTree()).size;
          expect(lastIndex).toBe(size - 1);
          const stored = await real.readEntries(0, size);
          for (const [index, text] of acked)
            expect(Buffer.from(stored[index] as Uint8Array).toString()).toBe(text);
          // And the signed root is the Merkle root of exactly the stored entries.
          const tree = new MerkleTree();
          for (const e of stored) tree.append(e);
          const cp = await ledger.checkpoint();
          expect(cp.size).toBe(size);
          expect(Buffer.from(cp.root).toString('hex')).toBe(Buffer.from(tree.root()).toString('hex'));
          await ledger.close();
          fx.cleanup();
          fx = undefined;
        },
      ),
      { numRuns: 25 },
    );
  });
});
