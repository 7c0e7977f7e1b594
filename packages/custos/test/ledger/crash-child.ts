/**
 * Child process of the crash test: appends under load from many concurrent callers and prints,
 * for every append that resolved, `A <index> <sha256 of the entry bytes>`, and for every
 * checkpoint it publishes, `C <size> <base64 root>`. The parent kills it with SIGKILL at random.
 * Usage: node --import tsx crash-child.ts DB KEYS_DIR RUN CALLERS
 */
import { createHash } from 'node:crypto';
import { SqliteLedgerStore } from '../../src/adapters/sqlite/sqlite-ledger-store.js';
import { systemClock } from '../../src/ports/clock.js';
import { loadLedgerKeys } from '../../src/services/ledger/ledger-keys.js';
import { LedgerService } from '../../src/services/ledger/ledger-service.js';

const [db, keysDir, run, callers] = process.argv.slice(2) as [string, string, string, string];
const ledger = await LedgerService.open(new SqliteLedgerStore(db), loadLedgerKeys(keysDir), {
  origin: 'test.example/custos/US',
  maxBatch: 256,
  maxWaitMs: 1,
  checkpointIntervalMs: 25,
  clock: systemClock,
});
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
out(`R ${ledger.size}`);

let seq = 0;
async function caller(id: number): Promise<void> {
  for (;;) {
    const n = seq++;
    const input = {
      type: 'access' as const,
      time: new Date().toISOString(),
      principal: { id: `caller-${id}`, org: 'operator', orgKind: 'operator' as const },
      action: 'read',
      resource: {
        collection: 'profiles',
        subjectRef: ledger.subjectRef(`run-${run}-subject-${n}`),
        count: 1,
      },
      decision: 'allow' as const,
      reasons: ['permit-support'],
      details: { run: Number(run), n },
    };
    const digest = createHash('sha256').update(ledger.encode(input)).digest('hex');
    const { index } = await ledger.append(input);
    out(`A ${index} ${digest}`);
  }
}

async function publisher(): Promise<void> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 15));
    const cp = await ledger.checkpoint();
    out(`C ${cp.size} ${Buffer.from(cp.root).toString('base64')}`);
  }
}

for (let i = 0; i < Number(callers); i++) void caller(i);
void publisher();
