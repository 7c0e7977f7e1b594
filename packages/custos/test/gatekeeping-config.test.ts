import { describe, expect, it } from 'vitest';
import { CustosError } from '../src/domain/errors.js';
import { configFrom, demoConfigObject } from './helpers.js';

type Gov = Record<string, unknown> & { groups: Record<string, unknown>[] };

function problems(mutate: (gov: Gov, config: Record<string, unknown>) => void): string[] {
  const obj = demoConfigObject('/tmp/x');
  mutate(obj.governance as Gov, obj);
  try {
    configFrom(obj, '/tmp/x');
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toBe('CONFIG_INVALID');
    return [...((err as CustosError).details ?? [])];
  }
  return [];
}

describe('governance configuration', () => {
  it('resolves roles through nested groups', () => {
    const c = configFrom(demoConfigObject('/tmp/x'), '/tmp/x');
    expect(c.governance.groupRoles['custodian-approver-3']).toEqual(['approver']);
    expect(c.governance.groupRoles['custodian-oncall']).toEqual(['break-glass']);
    expect(c.governance.breakGlass.reviewerRole).toBe('approver');
  });

  it('defaults when the section is absent', () => {
    const obj = demoConfigObject('/tmp/x');
    delete obj.governance;
    const c = configFrom(obj, '/tmp/x');
    expect(c.governance).toMatchObject({
      mode: 'autonomous',
      approverRole: 'approver',
      quorum: { default: 1 },
    });
    expect(c.governance.breakGlass.maxDurationMinutes).toBe(60);
  });

  it('refuses subgroup cycles, unknown groups, members and purposes', () => {
    expect(
      problems((g) => {
        g.groups.push({ id: 'a', subgroups: ['b'] }, { id: 'b', subgroups: ['a'] });
      }),
    ).toEqual(['governance.groups: subgroups form a cycle (a → b → a)']);
    expect(
      problems((g) => {
        g.groups.push({ id: 'c', members: ['ghost'], subgroups: ['nope'] });
        g.supervision = { purposes: ['NOPE'] };
        g.quorum = { rules: [{ purposes: ['ALSO_NOPE'], approvals: 1 }] };
      }),
    ).toEqual([
      'governance.groups[4].subgroups[0]: unknown group "nope"',
      'governance.groups[4].members[0]: unknown principal "ghost"',
      'governance.quorum.rules[0].purposes[0]: unknown purpose "ALSO_NOPE"',
      'governance.supervision.purposes[0]: unknown purpose "NOPE"',
    ]);
  });

  it('refuses quorums the declared principals cannot reach', () => {
    expect(problems((g) => (g.quorum = { rules: [{ minSubjects: 1000, approvals: 4 }] }))).toEqual([
      'governance.quorum: needs 4 custodian principal(s) with role "approver", only 3 declared',
    ]);
    expect(problems((g) => (g.board = { quorum: 3 }))).toEqual([
      'governance.board.quorum: needs 3 custodian principal(s) with role "board", only 2 declared',
    ]);
    expect(problems((g) => (g.breakGlass = { reviewerRole: 'auditor' }))).toEqual([
      'governance.breakGlass.reviewers: needs 2 custodian principal(s) with role "auditor", only 0 declared',
    ]);
  });

  it('checks webhooks: one secret source, http(s) URLs, known events', () => {
    const hook = (extra: Record<string, unknown>) => (g: Gov) => {
      g.alerts = { webhooks: [{ id: 'soc', url: 'https://soc.example/hook', ...extra }] };
    };
    expect(problems(hook({ secretEnv: 'A', secretFile: 'b' }))).toEqual([
      'governance.alerts.webhooks[0]: give exactly one of secretEnv, secretFile',
    ]);
    expect(problems(hook({}))).toEqual([
      'governance.alerts.webhooks[0]: give exactly one of secretEnv, secretFile',
    ]);
    expect(problems(hook({ secretEnv: 'A', url: 'ftp://x/y' }))).toEqual([
      'governance.alerts.webhooks[0].url: must be an http:// or https:// URL',
    ]);
    expect(problems(hook({ secretEnv: 'A', events: ['nope'] }))[0]).toMatch(
      /^governance\.alerts\.webhooks\.0\.events\.0|events/,
    );
    expect(problems(hook({ secretEnv: 'A', surprise: 1 }))).toEqual([
      'governance.alerts.webhooks[0].surprise: unknown key',
    ]);
  });
});
