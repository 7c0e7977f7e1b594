import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import { runCli } from './cli-helpers.js';
import { tempDir } from './helpers.js';

describe('custos egress CLI', () => {
  const t = tempDir();
  const config = join(t.dir, 'custos.yaml');
  beforeAll(async () => {
    writeFileSync(config, demoConfigYaml('./data'));
    expect((await runCli('demo', 'seed', '--subjects', '10', '--config', config)).code).toBe(0);
  });
  afterAll(() => t.cleanup());
  const exportAs = (flow: string, principal: string, ...extra: string[]) =>
    runCli('egress', 'export', flow, '--principal', principal, ...extra, '-c', config);

  it('refuses an unwritable -o path with a coded error, before anything is exported or metered', async () => {
    const r = await exportAs(
      'parent-interop',
      'parent-engineer',
      '-o',
      join(t.dir, 'no-such-dir', 'out.ndjson'),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('error BAD_REQUEST: cannot open the output file');
    expect(r.err).toContain('ENOENT');
    expect(r.err).not.toMatch(/^\s+at /m);
    const report = await runCli('egress', 'report', '--json', '-c', config);
    const rows = JSON.parse(report.out).rows as { counterparty: string; persons: number }[];
    expect(rows.filter((x) => x.counterparty === 'parent').every((x) => x.persons === 0)).toBe(true);
    // A good path works, mode 0600.
    const file = join(t.dir, 'out.ndjson');
    const ok = await exportAs('parent-metrics', 'parent-engineer', '-o', file);
    expect(ok.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('"@custos":"export-end"');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('exports through a flow as a destination principal, ending with the trailer', async () => {
    const r = await exportAs('parent-interop', 'parent-engineer');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    // The flow reads US subjects only: 8 of the 10.
    expect(lines).toHaveLength(9);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      '@custos': 'export-end',
      status: 'complete',
      rows: 8,
    });
    expect(r.out).not.toContain('@example.com');
    const csv = await exportAs('parent-metrics', 'parent-engineer', '--format', 'csv');
    expect(csv.out.split('\n')[0]).toBe('day,region,reports,sum_active_users,subjects');
    expect(csv.out).toMatch(/# custos export-end status=complete .*suppressedGroups=3/);
  });

  it('refuses other principals and unknown flows with a code, and reports volumes', async () => {
    const denied = await exportAs('parent-interop', 'operator-app');
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('error ACCESS_DENIED');
    expect(denied.out).toBe('');
    const none = await exportAs('nope', 'parent-engineer');
    expect(none.err).toContain('error EGRESS_NO_FLOW');
    const report = await runCli('egress', 'report', '-c', config);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/parent\s+personal-identifiers\s+8\s+10000/);
    const json = await runCli('egress', 'report', '--json', '-c', config);
    expect(JSON.parse(json.out).rows.length).toBeGreaterThan(0);
  });
});
