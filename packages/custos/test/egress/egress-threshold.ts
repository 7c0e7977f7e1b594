import { expect, it } from 'vitest';
import { createCustos } from '../../src/composition-root.js';
import { seedDemo } from '../../src/demo/demo-seed.js';
import type { Principal } from '../../src/domain/principal.js';
import { configFrom, demoConfigObject, TestClock, tempDir } from '../helpers.js';

/** Reads an export to the end; returns its data lines and its trailer. */
export async function drain(
  chunks: AsyncIterable<string>,
): Promise<{ rows: string[]; trailer: Record<string, unknown> }> {
  let text = '';
  for await (const c of chunks) text += c;
  const lines = text.trim().split('\n');
  const trailer = JSON.parse(lines.pop() ?? '{}') as Record<string, unknown>;
  return { rows: lines, trailer };
}

const parent: Principal = {
  id: 'parent-engineer',
  org: 'parent',
  orgKind: 'parent',
  roles: ['engineer'],
  kind: 'person',
  jurisdiction: '',
  release: undefined,
};

/**
 * The threshold acceptance test, run for one custody driver: a limit of 5 persons, batches of 2
 * records (one person each), 10 subjects. The export stops mid-stream once a batch would take the
 * counterparty past 5, says so in its trailer and its ledger entry, and the counter survives a restart.
 */
export function thresholdCase(
  name: string,
  custody: (dir: string) => { config?: Record<string, unknown>; cleanup: () => Promise<void> },
): void {
  it(`stops an export crossing the threshold mid-stream, and keeps the count across restarts (${name})`, async () => {
    const t = tempDir();
    const obj = demoConfigObject(t.dir) as Record<string, unknown> & {
      egress: { batchSize?: number; flows: { id: string; limits?: Record<string, number> }[] };
    };
    const pg = custody(t.dir);
    if (pg.config) obj.custody = pg.config;
    obj.egress.batchSize = 2;
    for (const f of obj.egress.flows) if (f.id === 'parent-interop') f.limits = { 'personal-identifiers': 5 };
    const config = configFrom(obj, t.dir);
    const clock = new TestClock();
    try {
      let custos = await createCustos(config, { clock });
      await seedDemo(custos, 10);
      const first = await custos.egress.open(parent, 'parent-interop', 'ndjson');
      const out = await drain(first.chunks);
      expect(out.rows.length).toBe(4);
      expect(out.trailer).toMatchObject({
        '@custos': 'export-end',
        status: 'stopped',
        code: 'EGRESS_LIMIT_EXCEEDED',
      });
      const stopped = JSON.parse((await custos.ledger.receipt(Number(out.trailer.ledgerIndex))).entry);
      expect(stopped).toMatchObject({ type: 'egress', action: 'export-stopped', decision: 'deny' });
      expect(stopped.details).toMatchObject({
        rows: 4,
        subjects: 4,
        dataType: 'personal-identifiers',
        limit: 5,
      });
      const before = (await custos.egress.report()).rows.find(
        (r) => r.counterparty === 'parent' && r.dataType === 'personal-identifiers',
      );
      expect(before?.persons).toBe(4);
      await custos.close();

      custos = await createCustos(config, { clock });
      const after = (await custos.egress.report()).rows.find(
        (r) => r.counterparty === 'parent' && r.dataType === 'personal-identifiers',
      );
      expect(after?.persons).toBe(4);
      // The same four persons again are within the limit; the fifth and sixth are not.
      const again = await drain((await custos.egress.open(parent, 'parent-interop', 'ndjson')).chunks);
      expect(again.trailer).toMatchObject({ status: 'stopped', code: 'EGRESS_LIMIT_EXCEEDED' });
      expect(again.rows.length).toBe(4);
      // A year and a day later the window has moved on.
      clock.advance(366 * 24 * 3_600_000);
      const later = await custos.egress.report();
      expect(
        later.rows.find((r) => r.counterparty === 'parent' && r.dataType === 'personal-identifiers')?.persons,
      ).toBe(0);
      await custos.close();
    } finally {
      await pg.cleanup();
      t.cleanup();
    }
  }, 60_000);
}
