import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml } from '../src/demo/demo-config.js';
import { SHIPPED_POLICY_DIR } from '../src/services/policy/policy-set.js';
import { runCli } from './cli-helpers.js';
import { tempDir } from './helpers.js';

describe('custos access and custos policy (governed changes) from the CLI', () => {
  const t = tempDir();
  const config = join(t.dir, 'custos.yaml');
  beforeAll(async () => {
    writeFileSync(config, demoConfigYaml('./data'));
    expect((await runCli('demo', 'seed', '-c', config, '--subjects', '5')).code).toBe(0);
  });
  afterAll(() => t.cleanup());

  const cli = async (...args: string[]) => {
    const r = await runCli(...args, '-c', config);
    const out = r.out.trim();
    const isJson = r.code === 0 && (out.startsWith('{') || out.startsWith('['));
    return { ...r, json: isJson ? JSON.parse(out) : undefined };
  };

  it('request, show, approve, list and revoke, acting as declared principals', async () => {
    const req = await cli(
      'access',
      'request',
      '--principal',
      'operator-engineer',
      '--collections',
      'messages',
      '--subjects',
      'us-user-00001',
      '--purpose',
      'SUPPORT_TICKET',
      '--detail',
      'user cannot see messages',
      '--ticket',
      'SUP-1',
      '--hours',
      '2',
    );
    expect(req.code).toBe(0);
    expect(req.json).toMatchObject({ state: 'pending', estimate: { subjects: 1, records: 3 } });
    const id = req.json.id as string;
    const self = await cli('access', 'approve', id, '--principal', 'operator-engineer');
    expect(self.code).toBe(1);
    expect(self.err).toContain('error SELF_APPROVAL');
    const ok = await cli('access', 'approve', id, '--principal', 'custodian-approver', '--comment', 'fine');
    expect(ok.json).toMatchObject({ state: 'approved', grant: { status: 'active' } });
    const shown = await cli('access', 'show', id, '--principal', 'auditor');
    expect(shown.json.approvals[0].by).toBe('custodian-approver');
    const listed = await cli('access', 'list', '--principal', 'custodian-officer', '--state', 'approved');
    expect(listed.json.map((r: { id: string }) => r.id)).toEqual([id]);
    const revoked = await cli(
      'access',
      'revoke',
      ok.json.grant.id,
      '--principal',
      'operator-engineer',
      '--reason',
      'done',
    );
    expect(revoked.json.status).toBe('revoked');
    const nobody = await cli('access', 'list');
    expect(nobody.code).toBe(1);
    expect(nobody.err).toContain('AUTH_REQUIRED');
    const check = await cli('access', 'check');
    expect(check.code).toBe(0);
  });

  it('break-glass needs the role and an incident', async () => {
    const base = [
      'access',
      'break-glass',
      '--collections',
      'profiles',
      '--jurisdiction',
      'US',
      '--purpose',
      'SECURITY_INCIDENT',
    ];
    expect((await cli(...base, '--principal', 'custodian-officer', '--incident', 'I-1')).err).toContain(
      'BREAK_GLASS_NOT_ALLOWED',
    );
    expect((await cli(...base, '--principal', 'custodian-oncall')).err).toContain('INCIDENT_REQUIRED');
    const bg = await cli(
      ...base,
      '--principal',
      'custodian-oncall',
      '--incident',
      'INC-7',
      '--minutes',
      '30',
    );
    expect(bg.json).toMatchObject({ kind: 'break-glass', state: 'approved', grant: { breakGlass: true } });
    const review = await cli(
      'access',
      'review',
      bg.json.grant.id,
      '--principal',
      'custodian-approver',
      '--verdict',
      'justified',
    );
    expect(review.json.reviews).toHaveLength(1);
  });

  it('policy propose, what-if, approve, activate', async () => {
    const shipped = readFileSync(join(SHIPPED_POLICY_DIR, 'default.cedar'), 'utf8');
    const file = join(t.dir, 'default.cedar');
    writeFileSync(file, shipped.replace(/@id\("public-read"\)[\s\S]*?\};\n/, ''));
    const p = await cli(
      'policy',
      'propose',
      file,
      '--principal',
      'custodian-approver-2',
      '--summary',
      'no public reads',
    );
    expect(p.code).toBe(0);
    expect(p.json.diff).toEqual([expect.objectContaining({ id: 'public-read', change: 'removed' })]);
    const whatIf = await cli('policy', 'what-if', p.json.id, '--principal', 'auditor', '--last', '50');
    expect(whatIf.code).toBe(0);
    expect(whatIf.out).toMatch(/decisions in entries \d+\.\.\d+ would change under pol_/);
    await cli('policy', 'approve', p.json.id, '--principal', 'custodian-officer');
    expect((await cli('policy', 'approve', p.json.id, '--principal', 'custodian-approver')).json.state).toBe(
      'approved',
    );
    const active = await cli('policy', 'activate', p.json.id, '--principal', 'custodian-officer');
    expect(active.json.state).toBe('active');
    const proposals = await cli('policy', 'proposals', '--principal', 'auditor', '--state', 'active');
    expect(proposals.json).toHaveLength(1);
  });
});
