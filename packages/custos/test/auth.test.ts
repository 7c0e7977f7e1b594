import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../src/domain/errors.js';
import { Authenticator, issueToken } from '../src/services/auth/authenticator.js';
import { type GatewayWorld, gatewayWorld } from './gateway-helpers.js';
import { configFrom, demoConfigObject, TestClock } from './helpers.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return err instanceof CustosError ? err.code : `uncoded: ${String(err)}`;
  }
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('authentication (embedded mode)', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await gatewayWorld(2);
  });
  afterAll(async () => {
    await w.close();
  });

  const key = () =>
    w.custos.tokenKey?.privateKey as NonNullable<GatewayWorld['custos']['tokenKey']>['privateKey'];
  const sign = (claims: Record<string, unknown>, mutate?: (j: SignJWT) => SignJWT) => {
    const now = Math.floor(w.custos.clock.now() / 1000);
    let j = new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('auditor')
      .setIssuer(w.custos.config.auth.issuer)
      .setAudience(w.custos.config.auth.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 600);
    if (mutate) j = mutate(j);
    return j.sign(key());
  };
  const auth = (t: string) => w.custos.authenticator.authenticate(`Bearer ${t}`);

  it('accepts a token from `custos token`', async () => {
    const t = await issueToken(w.custos.config, key(), 'auditor', 60, w.custos.clock.now());
    const p = await auth(t);
    expect(p).toMatchObject({ id: 'auditor', org: 'auditor', orgKind: 'auditor' });
  });

  it('refuses each bad token with its own code', async () => {
    const now = Math.floor(w.custos.clock.now() / 1000);
    const valid = await sign({});
    const [h, p, s] = valid.split('.');
    const cases: [string, Promise<unknown>][] = [
      ['TOKEN_EXPIRED', sign({}, (j) => j.setExpirationTime(now - 120))],
      ['TOKEN_NOT_YET_VALID', sign({}, (j) => j.setNotBefore(now + 3600))],
      ['TOKEN_AUDIENCE', sign({}, (j) => j.setAudience('someone-else'))],
      ['TOKEN_ISSUER', sign({}, (j) => j.setIssuer('https://evil.example'))],
      ['PRINCIPAL_UNKNOWN', sign({}, (j) => j.setSubject('mallory'))],
    ];
    for (const [want, tokenP] of cases)
      expect([want, await code(auth(await (tokenP as Promise<string>)))]).toEqual([want, want]);
    expect(await code(auth(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`))).toBe('TOKEN_ALG_REFUSED');
    expect(await code(auth(`${b64({ alg: 'HS256' })}.${p}.${s}`))).toBe('TOKEN_ALG_REFUSED');
    const flipped = `${s?.slice(0, -2)}${s?.at(-2) === 'A' ? 'B' : 'A'}${s?.at(-1)}`;
    expect(await code(auth(`${h}.${p}.${flipped}`))).toBe('TOKEN_SIGNATURE');
    expect(await code(auth('not-a-jwt'))).toBe('TOKEN_MALFORMED');
    expect(await code(w.custos.authenticator.authenticate(undefined))).toBe('AUTH_REQUIRED');
    expect(await code(w.custos.authenticator.authenticate(`Basic ${valid}`))).toBe('TOKEN_MALFORMED');
  });

  it('answers 401 with the code over HTTP and never echoes the token', async () => {
    const now = Math.floor(w.custos.clock.now() / 1000);
    const expired = await sign({}, (j) => j.setExpirationTime(now - 120));
    const r = await w.app.inject({
      method: 'GET',
      url: '/v1/subjects/us-user-00001/collections/profiles/records/profile',
      headers: { authorization: `Bearer ${expired}`, 'custos-purpose': 'service' },
    });
    expect(r.statusCode).toBe(401);
    expect((r.json() as { code: string }).code).toBe('TOKEN_EXPIRED');
    expect(r.body).not.toContain(expired.split('.')[2] ?? 'x');
  });

  it('refuses a token signed by another key', async () => {
    const other = await generateKeyPair('EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const t = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('auditor')
      .setIssuer(w.custos.config.auth.issuer)
      .setAudience(w.custos.config.auth.audience)
      .setExpirationTime(now + 60)
      .sign(other.privateKey);
    expect(await code(auth(t))).toBe('TOKEN_SIGNATURE');
  });

  it('refuses a token issued in the future, beyond the clock tolerance', async () => {
    const now = Math.floor(w.custos.clock.now() / 1000);
    const tolerance = w.custos.config.auth.clockToleranceSec;
    const issuedAt = (iat: number) => sign({}, (j) => j.setIssuedAt(iat).setNotBefore(now));
    expect(await code(auth(await issuedAt(now + 3600)))).toBe('TOKEN_NOT_YET_VALID');
    expect(await code(auth(await issuedAt(now + tolerance + 1)))).toBe('TOKEN_NOT_YET_VALID');
    expect(await code(auth(await issuedAt(now + tolerance)))).toBe('accepted');
  });

  // The ledger entry schema's rules for `release` (packages/verify validate-entry.ts), plus no
  // control or format characters.
  const RELEASE_CLAIMS: [string, unknown, string][] = [
    ['a release', 'web-2026.11.3', 'accepted'],
    ['1024 characters', 'r'.repeat(1024), 'accepted'],
    ['1025 characters', 'r'.repeat(1025), 'TOKEN_MALFORMED'],
    ['empty', '', 'TOKEN_MALFORMED'],
    ['a lone high surrogate', 'web-\ud800', 'TOKEN_MALFORMED'],
    ['a lone low surrogate', '\udc00web', 'TOKEN_MALFORMED'],
    ['an escape sequence', 'web-1\u001b[31m', 'TOKEN_MALFORMED'],
    ['a newline', 'web-1\nforged', 'TOKEN_MALFORMED'],
    ['DEL', 'web-1\u007f', 'TOKEN_MALFORMED'],
    ['a bidi override', 'web-\u202e1', 'TOKEN_MALFORMED'],
    ['a number', 42, 'TOKEN_MALFORMED'],
    ['an array', ['web-1'], 'TOKEN_MALFORMED'],
  ];
  for (const [what, release, want] of RELEASE_CLAIMS) {
    it(`release claim: ${what} -> ${want}`, async () => {
      const t = await sign({ [w.custos.config.auth.claims.release]: release });
      expect(await code(auth(t))).toBe(want);
    });
  }

  it('refuses a bad release claim over HTTP with 401 TOKEN_MALFORMED, leaking nothing', async () => {
    for (const release of ['r'.repeat(1025), 'web-\u001b[2J']) {
      const t = await sign({ [w.custos.config.auth.claims.release]: release });
      const r = await w.app.inject({
        method: 'GET',
        url: '/v1/subjects/us-user-00001/collections/profiles/records/profile',
        headers: { authorization: `Bearer ${t}`, 'custos-purpose': 'SUPPORT_TICKET' },
      });
      expect([r.statusCode, (r.json() as { code: string }).code]).toEqual([401, 'TOKEN_MALFORMED']);
      expect(r.body).not.toContain('ledger');
    }
  });

  it('issues tokens only for declared principals and bounded lifetimes', async () => {
    expect(await code(issueToken(w.custos.config, key(), 'nobody', 60, 0))).toBe('PRINCIPAL_UNKNOWN');
    expect(await code(issueToken(w.custos.config, key(), 'auditor', 10 ** 9, 0))).toBe('VALIDATION_FAILED');
  });
});

describe('authentication (OIDC mode, against a local JWKS endpoint)', () => {
  let server: Server;
  let jwksUrl: string;
  let idp: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    idp = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('maps configurable claims to a principal, and refuses unknown organisations', async () => {
    const obj = demoConfigObject('/tmp/unused') as Record<string, unknown>;
    obj.auth = {
      mode: 'oidc',
      issuer: 'https://idp.example',
      audience: 'custos-prod',
      jwksUrl,
      claims: { org: 'https://custos/org', roles: 'groups' },
    };
    const config = configFrom(obj, '/tmp');
    const clock = new TestClock(Date.now());
    const a = new Authenticator(config, clock, undefined);
    const now = Math.floor(clock.now() / 1000);
    const mk = (claims: Record<string, unknown>, sub: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(sub)
        .setIssuer('https://idp.example')
        .setAudience('custos-prod')
        .setExpirationTime(now + 60)
        .sign(idp.privateKey);
    const p = await a.authenticate(
      `Bearer ${await mk({ 'https://custos/org': 'operator', groups: ['engineer'], release: 'sha256:abc' }, 'alice@op')}`,
    );
    expect(p).toMatchObject({
      id: 'alice@op',
      org: 'operator',
      orgKind: 'operator',
      roles: ['engineer'],
      release: 'sha256:abc',
    });
    expect(
      await code(a.authenticate(`Bearer ${await mk({ 'https://custos/org': 'martians' }, 'bob')}`)),
    ).toBe('PRINCIPAL_UNKNOWN');
    // A declared principal keeps its declared org and roles whatever the token claims.
    const declared = await a.authenticate(
      `Bearer ${await mk({ 'https://custos/org': 'custodian', groups: ['officer'] }, 'parent-engineer')}`,
    );
    expect(declared.orgKind).toBe('parent');
  });
});
