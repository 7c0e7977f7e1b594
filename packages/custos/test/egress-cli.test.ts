import { writeFileSync } from 'node:fs';
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

  it('exports through a flow as a destination principal, ending with the trailer', async () => {
    const r = await runCli(
      'egress',
      'export',
      'parent-interop',
      '--principal',
      'parent-engineer',
      '-c',
      config,
    );
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      '@custos': 'export-end',
      status: 'complete',
      rows: 10,
    });
    expect(r.out).not.toContain('@example.com');
    const csv = await runCli(
      'egress',
      'export',
      'parent-metrics',
      '--principal',
      'parent-engineer',
      '--format',
      'csv',
      '-c',
      config,
    );
    expect(csv.out.split('\n')[0]).toBe('day,region,reports,sum_active_users,subjects');
    expect(csv.out).toMatch(/# custos export-end status=complete .*suppressedGroups=3/);
  });

  it('refuses other principals and unknown flows with a code, and reports volumes', async () => {
    const denied = await runCli(
      'egress',
      'export',
      'parent-interop',
      '--principal',
      'operator-app',
      '-c',
      config,
    );
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('error ACCESS_DENIED');
    expect(denied.out).toBe('');
    const none = await runCli('egress', 'export', 'nope', '--principal', 'parent-engineer', '-c', config);
    expect(none.err).toContain('error EGRESS_NO_FLOW');
    const report = await runCli('egress', 'report', '-c', config);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/parent\s+personal-identifiers\s+10\s+10000/);
    const json = await runCli('egress', 'report', '--json', '-c', config);
    expect(JSON.parse(json.out).rows.length).toBeGreaterThan(0);
  });
});
