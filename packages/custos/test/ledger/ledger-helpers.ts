import { join } from 'node:path';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import type { LedgerStore } from '../../src/ports/ledger-store.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import {
  type LedgerEntryInput,
  LedgerService,
  type LedgerServiceOptions,
} from '../../src/services/ledger/ledger-service.js';
import { TestClock, tempDir } from '../helpers.js';

/** The origin the ledger tests sign with. */
export const TEST_ORIGIN = 'test.example/custos/US';

/** A ledger on a real SQLite file in a temp dir, reopenable on the same file and keys. */
export interface LedgerFixture {
  readonly dir: string;
  readonly dbPath: string;
  readonly keysDir: string;
  readonly clock: TestClock;
  open(options?: Partial<LedgerServiceOptions>, store?: LedgerStore): Promise<LedgerService>;
  cleanup(): void;
}

/** Creates a fixture; `open` defaults to no checkpoint timer and small batches. */
export function ledgerFixture(): LedgerFixture {
  const t = tempDir('custos-ledger-');
  const dbPath = join(t.dir, 'ledger.db');
  const keysDir = join(t.dir, 'keys');
  const clock = new TestClock();
  return {
    dir: t.dir,
    dbPath,
    keysDir,
    clock,
    open: (options = {}, store) =>
      LedgerService.open(
        store ?? new SqliteLedgerStore(dbPath, { busyTimeoutMs: 100 }),
        loadLedgerKeys(keysDir),
        {
          origin: TEST_ORIGIN,
          maxBatch: 512,
          maxWaitMs: 2,
          checkpointIntervalMs: 0,
          clock,
          ...options,
        },
      ),
    cleanup: t.cleanup,
  };
}

/** A plausible access decision, varied by `i`. */
export function accessEntry(ledger: LedgerService, i: number): LedgerEntryInput {
  return {
    type: 'access',
    principal: { id: `principal-${i % 7}`, org: 'operator', orgKind: 'operator' },
    action: i % 3 === 0 ? 'write' : 'read',
    resource: {
      collection: 'profiles',
      category: 'protected',
      jurisdiction: 'US',
      site: 'us-trusted-cloud',
      subjectRef: ledger.subjectRef(`subject-${i}`),
      count: 1 + (i % 4),
    },
    purpose: 'support',
    decision: i % 5 === 0 ? 'deny' : 'allow',
    reasons: [i % 5 === 0 ? 'forbid-parent' : 'permit-support'],
    policyVersion: 'none',
    release: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
  };
}

/** Runs `custos-verify` in-process and captures what it prints. */
export async function runVerifier(argv: readonly string[]): Promise<{ code: number; out: string }> {
  const { main } = await import('../../../verify/src/cli.js');
  const lines: string[] = [];
  const io = {
    out: (l: string) => lines.push(l),
    err: (l: string) => lines.push(l),
    readStdin: async () => '',
  };
  const code = await main(argv, io);
  return { code, out: lines.join('\n') };
}
