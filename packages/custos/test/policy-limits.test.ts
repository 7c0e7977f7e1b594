import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/domain/principal.js';
import { Authorizer, denyReasons } from '../src/services/policy/authorizer.js';
import { CedarEngine } from '../src/services/policy/cedar-engine.js';
import { CEDAR, CedarRuntime, loadCedarWasm } from '../src/services/policy/cedar-runtime.js';
import { checkPolicyBounds, POLICY_LIMITS } from '../src/services/policy/policy-bounds.js';
import { loadPolicies, SHIPPED_POLICY_DIR } from '../src/services/policy/policy-set.js';
import { type GatekeepingWorld, gatekeepingWorld } from './gatekeeping-helpers.js';
import { as } from './gateway-helpers.js';
import { configFrom, demoConfigObject, tempDir } from './helpers.js';

const SHIPPED = readFileSync(join(SHIPPED_POLICY_DIR, 'default.cedar'), 'utf8');
const SCHEMA = readFileSync(join(SHIPPED_POLICY_DIR, 'custos.cedarschema'), 'utf8');
const HEAD = 'permit (principal, action, resource) when';
const CONDITION = 'context.purpose == "x"';
/** `n` copies of `item` joined by `op`. */
const chain = (n: number, item: string, op: string): string => new Array<string>(n).fill(item).join(op);

/** The reviewer's inputs: each one trapped Cedar (or left a proposal stored that never parsed again). */
const HOSTILE: readonly (readonly [string, string])[] = [
  ['200 nested parentheses', `${HEAD} { ${'('.repeat(200)}true${')'.repeat(200)} };`],
  ['100 nested parentheses', `${HEAD} { ${'('.repeat(100)}true${')'.repeat(100)} };`],
  ['10000 `!`', `${HEAD} { ${'!'.repeat(10_000)}true };`],
  ['1250 chained `&&`', `${HEAD} { ${chain(1250, CONDITION, ' && ')} };`],
  // Cedar ends a line comment at a carriage return too: what follows it must still be counted.
  [
    'a comment ended by CR, then 200 parentheses',
    `${HEAD} { // c\r${'('.repeat(200)}true${')'.repeat(200)} };`,
  ],
];

const scratch = tempDir();
afterAll(() => scratch.cleanup());
const demoConfig = configFrom(demoConfigObject(scratch.dir), scratch.dir);

const officer: Principal = {
  id: 'custodian-officer',
  org: 'custodian',
  orgKind: 'custodian',
  kind: 'person',
  roles: ['officer'],
  jurisdiction: '',
  release: undefined,
};

/** The CustosError code `call` throws, or `no error`. */
function codeOfSync(call: () => void): string {
  try {
    call();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

/** The shipped set plus one policy, as an engine would get it (no bounds, no validation). */
function unchecked(text: string): ReturnType<typeof loadPolicies> {
  const shipped = loadPolicies(undefined);
  return { ...shipped, policies: [...shipped.policies, { id: 'extra', file: 'extra.cedar', text }] };
}

/** An officer's custody read of a class: allowed under the shipped policies. */
function officerRead(engine: CedarEngine): ReturnType<CedarEngine['evaluate']> {
  return engine.evaluate(
    officer,
    'read',
    {
      id: 'class:us/profiles',
      cls: {
        collection: 'profiles',
        category: 'protected',
        jurisdiction: 'us',
        ringFenced: false,
        shareableWithParent: false,
      },
    },
    { purpose: 'custody' },
  );
}

describe('policy text is bounded before Cedar sees it', () => {
  it('passes the shipped policies and policies at every limit; refuses one past it without echoing it', () => {
    expect(() => checkPolicyBounds('default.cedar', SHIPPED)).not.toThrow();
    const depth = POLICY_LIMITS.maxNesting - 1; // the `when { }` body is one level
    const atLimit = [
      `${HEAD} { ${'('.repeat(depth)}true${')'.repeat(depth)} };`,
      `${HEAD} { ${'!'.repeat(POLICY_LIMITS.maxUnaryRun)}true };`,
      `${HEAD} { ${chain(POLICY_LIMITS.maxExpressionDepth, 'true', ' && ')} };`, // 63 `&&` and the body
      // Brackets and operators inside strings and comments are not Cedar syntax.
      `// ${'((((!!!!&&'.repeat(50)}\n${HEAD} { context.purpose == "${'(!&&.'.repeat(500)}" };`,
    ];
    for (const text of atLimit) expect(() => checkPolicyBounds('p.cedar', text)).not.toThrow();
    const past = [
      `${HEAD} { ${'('.repeat(depth + 1)}true${')'.repeat(depth + 1)} };`,
      `${HEAD} { ${'[{a: '.repeat(depth)}1${'}]'.repeat(depth)} };`,
      `${HEAD} { ${'! '.repeat(POLICY_LIMITS.maxUnaryRun + 1)}true };`,
      `${HEAD} { ${'-'.repeat(POLICY_LIMITS.maxUnaryRun + 1)}1 == 1 };`,
      `${HEAD} { ${chain(POLICY_LIMITS.maxExpressionDepth + 1, 'true', ' && ')} };`,
      `${HEAD} { context${'.purpose'.repeat(POLICY_LIMITS.maxExpressionDepth)} == "" };`,
      `${HEAD} { ${'if true then '.repeat(POLICY_LIMITS.maxExpressionDepth)}true${' else false'.repeat(POLICY_LIMITS.maxExpressionDepth)} };`,
      `${HEAD} { ${'x'.repeat(POLICY_LIMITS.maxFileBytes)} };`,
    ];
    for (const text of past) {
      let message = '';
      try {
        checkPolicyBounds('p.cedar', text);
      } catch (err) {
        expect(err).toMatchObject({ code: 'POLICY_INVALID' });
        message = (err as Error).message;
      }
      expect(message).toMatch(/^p\.cedar: /);
      expect(message.length).toBeLessThan(120);
    }
  });

  it('Cedar parses, validates and evaluates the worst texts the limits let through without trapping', () => {
    const worst: ((n: number) => string)[] = [
      (n) => `${'('.repeat(n)}${CONDITION}${')'.repeat(n)}`,
      // Sets and records are Cedar's costliest nesting.
      (n) => `${'[{a: '.repeat(n)}${CONDITION}${'}]'.repeat(n)}.isEmpty()`,
      (n) => chain(n, CONDITION, ' && '),
      (n) => chain(n, CONDITION, ' || '),
      (n) => `${chain(n, '1', ' + ')} == 1`,
      (n) => `context${'.purpose'.repeat(n)} == ""`,
      (n) => `${`if ${CONDITION} then `.repeat(n)}true${' else false'.repeat(n)}`,
      (n) => `${`${CONDITION} && (`.repeat(n)}true${')'.repeat(n)}`,
      (n) => `${`[{a: ! ${CONDITION} && (`.repeat(n)}true${')}]'.repeat(n)}.isEmpty()`,
    ];
    // The largest n the limits let through, for each.
    const texts = worst.map((make) => {
      const text = (n: number): string => `${HEAD} { ${make(n)} };`;
      let n = 1;
      while (n < 1000 && codeOfSync(() => checkPolicyBounds('worst.cedar', text(n + 1))) === 'no error') n++;
      return text(n);
    });
    const staticPolicies = Object.fromEntries(texts.map((t, i) => [`worst-${i}`, t]));
    CEDAR.run(() => undefined); // loaded: a trap below would change the generation
    const before = CEDAR.generation;
    const run = CEDAR.run((c) => [
      ...texts.map((t) => c.policySetTextToParts(t).type),
      c.validate({ schema: SCHEMA, policies: { staticPolicies } }).type,
    ]);
    expect(run).toEqual({ ok: true, value: [...texts.map(() => 'success'), 'success'] });
    const shipped = loadPolicies(undefined);
    const policies = texts.map((text, i) => ({ id: `worst-${i}`, file: 'worst.cedar', text }));
    const engine = new CedarEngine({ ...shipped, policies: [...shipped.policies, ...policies] });
    expect(officerRead(engine).trapped).toBeUndefined();
    expect(CEDAR.generation).toBe(before);
  });
});

describe('a Cedar trap is a deny, and the engine recovers', () => {
  it('re-instantiates the wasm module after a trap: an engine built before it decides again', () => {
    const engine = new CedarEngine(loadPolicies(undefined));
    expect(officerRead(engine)).toMatchObject({ allow: true });
    // Straight to Cedar, past the bounds: this traps and leaves the instance's memory corrupt.
    const before = CEDAR.generation;
    const deep = `${HEAD} { ${'('.repeat(200)}true${')'.repeat(200)} };`;
    expect(CEDAR.run((c) => c.policySetTextToParts(deep))).toMatchObject({ ok: false, failure: 'trap' });
    expect(CEDAR.generation).toBe(before + 1);
    expect(officerRead(engine)).toMatchObject({ allow: true, errors: [] });
  });

  it('a trap while deciding is a deny that is not cached; the next decision is made', () => {
    // 1250 chained conditions preparse fine but overflow Cedar's stack when evaluated.
    const trapping = new CedarEngine(unchecked(`${HEAD} { ${chain(1250, CONDITION, ' && ')} };`));
    const denied = officerRead(trapping);
    expect(denied).toMatchObject({ allow: false, reasons: [], trapped: true });
    expect(denyReasons(denied)).toEqual(['policy-error']);
    expect(officerRead(new CedarEngine(loadPolicies(undefined)))).toMatchObject({ allow: true });

    // A stubbed trap through an Authorizer: denied once, then decided (and cached) normally.
    let traps = 1;
    const real = loadCedarWasm();
    const runtime = new CedarRuntime(() => ({
      ...real,
      statefulIsAuthorized: (call) => {
        if (traps-- > 0) throw new WebAssembly.RuntimeError('unreachable');
        return real.statefulIsAuthorized(call);
      },
    }));
    const authorizer = new Authorizer(demoConfig, new CedarEngine(loadPolicies(undefined), runtime));
    const req = {
      principal: officer,
      action: 'read',
      collection: 'profiles',
      category: 'protected',
      jurisdiction: 'us',
      purpose: 'custody',
    } as const;
    expect(authorizer.decide(req)).toMatchObject({ allow: false, trapped: true });
    expect(authorizer.decide(req)).toMatchObject({ allow: true });
    expect(runtime.generation).toBe(2);
  });
});

describe('over HTTP: hostile proposals are refused and break nothing; stored bad rows do not break listing', () => {
  let w: GatekeepingWorld;
  beforeAll(async () => {
    w = await gatekeepingWorld(3);
  });
  afterAll(async () => {
    await w.close();
  });

  /** An uncached allowed read and the proposal listing, as after any of the inputs. */
  const stillWorks = async (): Promise<void> => {
    w.custos.authorizer.invalidate();
    const read = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/profiles/records/profile',
      headers: as(w, 'custodian-officer', 'custody'),
    });
    expect(read.statusCode).toBe(200);
    const list = await w.app.inject({
      method: 'GET',
      url: '/v1/policy/proposals',
      headers: as(w, 'auditor'),
    });
    expect(list.statusCode).toBe(200);
  };

  for (const [name, text] of HOSTILE) {
    it(`${name}: 400 POLICY_INVALID, nothing stored or recorded, authorization unharmed`, async () => {
      const entries = w.custos.ledger.size;
      const proposals = (await w.custos.accessStore.listProposals(undefined, 1000)).length;
      const r = await w.app.inject({
        method: 'POST',
        url: '/v1/policy/proposals',
        headers: as(w, 'custodian-approver-2'),
        payload: { files: [{ name: 'default.cedar', text: `${SHIPPED}\n${text}` }], summary: name },
      });
      expect(r.statusCode).toBe(400);
      const body = r.json() as { code: string; message: string };
      expect(body.code).toBe('POLICY_INVALID');
      // Refused by the bounds, before Cedar, and without echoing the text.
      // The file by its position (its name is a request value), the line and the limit.
      expect(body.message).toMatch(/^files\[0\]: line \d+: /);
      expect(r.body).not.toMatch(/\(\(\(|!!!|&& context/);
      expect(w.custos.ledger.size).toBe(entries);
      expect((await w.custos.accessStore.listProposals(undefined, 1000)).length).toBe(proposals);
      await stillWorks();
    });
  }

  it('a stored proposal that no longer parses is shown valid: false; listing, show and reject work', async () => {
    const legacy = async (id: string, text: string): Promise<void> =>
      w.custos.accessStore.createProposal({
        id,
        proposer: { id: 'custodian-approver-2', org: 'custodian', orgKind: 'custodian' },
        summary: 'written before proposals were bounded',
        files: [{ name: 'default.cedar', text }],
        baseVersion: w.custos.policies.version,
        version: 'sha256:legacy',
        createdAt: w.clock.now(),
        state: 'pending',
        decidedAt: undefined,
        decidedBy: undefined,
      });
    await legacy('pol-legacy-deep', `${SHIPPED}\n${HEAD} { ${'('.repeat(100)}true${')'.repeat(100)} };`);
    await legacy('pol-legacy-broken', `${SHIPPED}\npermit (principal, action, resource) when { nope`);
    const list = await w.app.inject({
      method: 'GET',
      url: '/v1/policy/proposals',
      headers: as(w, 'auditor'),
    });
    expect(list.statusCode).toBe(200);
    const views = (list.json() as { proposals: { id: string; valid: boolean; diff: unknown[] }[] }).proposals;
    for (const id of ['pol-legacy-deep', 'pol-legacy-broken'])
      expect(views.find((v) => v.id === id)).toMatchObject({ valid: false, diff: [] });
    const show = await w.app.inject({
      method: 'GET',
      url: '/v1/policy/proposals/pol-legacy-deep',
      headers: as(w, 'auditor'),
    });
    expect([show.statusCode, (show.json() as { valid: boolean }).valid]).toEqual([200, false]);
    const whatIf = await w.app.inject({
      method: 'GET',
      url: '/v1/policy/proposals/pol-legacy-deep/what-if',
      headers: as(w, 'auditor'),
    });
    expect([whatIf.statusCode, (whatIf.json() as { code: string }).code]).toEqual([400, 'POLICY_INVALID']);
    const reject = await w.app.inject({
      method: 'POST',
      url: '/v1/policy/proposals/pol-legacy-deep/reject',
      headers: as(w, 'custodian-officer'),
      payload: { reason: 'unparsable' },
    });
    expect([reject.statusCode, (reject.json() as { state: string }).state]).toEqual([200, 'rejected']);
    await stillWorks();
  });

  it('/readyz is 503 when Cedar cannot be re-instantiated after a trap', async () => {
    const ready = () => w.app.inject({ method: 'GET', url: '/readyz' });
    expect((await ready()).statusCode).toBe(200);
    let loads = 0;
    const runtime = new CedarRuntime(() => {
      if (loads++ > 0) throw new Error('out of memory');
      return loadCedarWasm();
    });
    const engine = new CedarEngine(w.custos.policies, runtime);
    runtime.run(() => {
      throw new WebAssembly.RuntimeError('unreachable');
    });
    w.custos.authorizer.replaceEngine(engine);
    try {
      const r = await ready();
      expect(r.statusCode).toBe(503);
      expect((r.json() as { checks: Record<string, string> }).checks.policy).toBe('unavailable');
      expect(officerRead(engine)).toMatchObject({ allow: false, trapped: true });
      // A failed load is not tried again on every call (each try compiles wasm on the event loop).
      const tries = loads;
      for (let i = 0; i < 5; i++)
        expect(runtime.run(() => 1)).toMatchObject({ ok: false, failure: 'unavailable' });
      expect(loads).toBe(tries);
    } finally {
      w.custos.authorizer.replaceEngine(new CedarEngine(w.custos.policies));
    }
    expect((await ready()).statusCode).toBe(200);
  });
});
