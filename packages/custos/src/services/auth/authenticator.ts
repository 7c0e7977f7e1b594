import type { KeyObject } from 'node:crypto';
import { MAX_ENTRY_STRING } from '@custos/verify';
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { CustosConfig, PrincipalSpec } from '../../domain/config.js';
import type { OrgKind } from '../../domain/config-schema.js';
import { CustosError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { Clock } from '../../ports/clock.js';

type KeyInput = KeyObject | ReturnType<typeof createRemoteJWKSet>;

const CACHE_LIMIT = 10_000;

/** Lone surrogates (not encodable as UTF-8), control and format characters (ESC, bidi overrides). */
const UNRECORDABLE = /[\p{Cs}\p{Cc}\p{Cf}]/u;

/**
 * The `release` claim, checked as the ledger entry schema checks `release` (a non-empty string of
 * at most MAX_ENTRY_STRING characters that encodes as UTF-8), and free of control and format
 * characters, which would reach the ledger and the logs verbatim. Checked here, at
 * authentication, so that a bad claim is one refused token (TOKEN_MALFORMED) rather than a
 * failed ledger write on every request it makes.
 */
function releaseOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ENTRY_STRING)
    throw new CustosError(
      'TOKEN_MALFORMED',
      `token release claim must be a string of 1..${MAX_ENTRY_STRING} characters`,
    );
  if (UNRECORDABLE.test(value))
    throw new CustosError(
      'TOKEN_MALFORMED',
      'token release claim contains a control, format or unpaired surrogate character',
    );
  return value;
}

/** Maps a jose failure to one of the distinct 401 codes. Messages never contain the token. */
function toAuthError(err: unknown): CustosError {
  if (err instanceof CustosError) return err;
  if (err instanceof errors.JWTExpired) return new CustosError('TOKEN_EXPIRED', 'token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
      case 'iat':
        return new CustosError('TOKEN_NOT_YET_VALID', 'token is not valid yet');
      case 'aud':
        return new CustosError('TOKEN_AUDIENCE', 'token audience is not accepted');
      case 'iss':
        return new CustosError('TOKEN_ISSUER', 'token issuer is not accepted');
      default:
        return new CustosError('TOKEN_MALFORMED', `token claim "${err.claim}" is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new CustosError('TOKEN_ALG_REFUSED', 'token algorithm is not accepted');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return new CustosError('TOKEN_SIGNATURE', 'token signature is invalid');
  }
  return new CustosError('TOKEN_MALFORMED', 'token is malformed');
}

/**
 * Verifies bearer JWTs and resolves them to principals. Embedded mode trusts Custos's own Ed25519
 * key and takes org and roles from the configuration; OIDC mode trusts the issuer's JWKS and maps
 * configurable claims (a principal declared in the configuration still takes its declared org and
 * roles). Verified tokens are cached until they expire, so a request pays for a signature check
 * only once per token.
 */
export class Authenticator {
  private readonly declared: ReadonlyMap<string, PrincipalSpec>;
  private readonly orgKinds: ReadonlyMap<string, OrgKind>;
  private readonly key: KeyInput;
  private readonly cache = new Map<string, { principal: Principal; expMs: number }>();

  constructor(
    private readonly config: CustosConfig,
    private readonly clock: Clock,
    embeddedKey: KeyObject | undefined,
  ) {
    this.declared = new Map(config.principals.map((p) => [p.id, p]));
    this.orgKinds = new Map(config.organisations.map((o) => [o.id, o.kind]));
    if (config.auth.mode === 'oidc') {
      this.key = createRemoteJWKSet(new URL(config.auth.jwksUrl ?? ''), { cooldownDuration: 30_000 });
    } else {
      if (!embeddedKey) throw new CustosError('KEY_UNAVAILABLE', 'embedded token key is missing');
      this.key = embeddedKey;
    }
  }

  /** Drops cached verifications (on a principal or configuration change). */
  invalidate(): void {
    this.cache.clear();
  }

  /** Authenticates an `Authorization` header value. Throws a coded 401 error. */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (header === undefined || header === '')
      throw new CustosError('AUTH_REQUIRED', 'a bearer token is required');
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header);
    if (!m?.[1]) throw new CustosError('TOKEN_MALFORMED', 'authorization must be "Bearer <jwt>"');
    const token = m[1];
    const now = this.clock.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expMs > now) return hit.principal;
      this.cache.delete(token);
    }
    let header0: ReturnType<typeof decodeProtectedHeader>;
    try {
      header0 = decodeProtectedHeader(token);
    } catch {
      throw new CustosError('TOKEN_MALFORMED', 'token header is malformed');
    }
    if (typeof header0.alg !== 'string' || header0.alg.toLowerCase() === 'none') {
      throw new CustosError('TOKEN_ALG_REFUSED', 'unsigned tokens are refused');
    }
    let payload: JWTPayload;
    try {
      const algorithms = this.config.auth.mode === 'embedded' ? ['EdDSA'] : [...this.config.auth.algorithms];
      ({ payload } = await jwtVerify(token, this.key as KeyObject, {
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
        algorithms,
        clockTolerance: this.config.auth.clockToleranceSec,
        currentDate: new Date(now),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw toAuthError(err);
    }
    // jose checks `iat` only against a maximum token age; a token issued in the future is not
    // valid yet either (with the same tolerance as `nbf`).
    if (
      typeof payload.iat === 'number' &&
      payload.iat > Math.floor(now / 1000) + this.config.auth.clockToleranceSec
    )
      throw new CustosError('TOKEN_NOT_YET_VALID', 'token is not valid yet');
    const principal = this.resolve(payload);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, {
      principal,
      expMs: (payload.exp ?? 0) * 1000 + this.config.auth.clockToleranceSec * 1000,
    });
    return principal;
  }

  private resolve(payload: JWTPayload): Principal {
    const claims = this.config.auth.claims;
    const claim = (name: string): unknown => (payload as Record<string, unknown>)[name];
    const id = claim(claims.principal);
    if (typeof id !== 'string' || id === '')
      throw new CustosError('TOKEN_MALFORMED', 'token names no principal');
    const release = releaseOf(claim(claims.release));
    const declared = this.declared.get(id);
    if (declared) {
      return Object.freeze({
        id,
        org: declared.org,
        orgKind: declared.orgKind,
        roles: Object.freeze([...declared.roles]),
        kind: declared.kind,
        jurisdiction: declared.jurisdiction ?? '',
        release,
      });
    }
    if (this.config.auth.mode === 'embedded') throw new CustosError('PRINCIPAL_UNKNOWN', 'unknown principal');
    const org = claim(claims.org);
    const orgKind = typeof org === 'string' ? this.orgKinds.get(org) : undefined;
    if (typeof org !== 'string' || orgKind === undefined) {
      throw new CustosError('PRINCIPAL_UNKNOWN', 'principal belongs to no known organisation');
    }
    const rolesClaim = claim(claims.roles);
    const roles = Array.isArray(rolesClaim)
      ? rolesClaim.filter((r): r is string => typeof r === 'string')
      : [];
    const kind = claim(claims.kind) === 'service' ? 'service' : 'person';
    const jurisdiction = claim(claims.jurisdiction);
    return Object.freeze({
      id,
      org,
      orgKind,
      roles: Object.freeze(roles),
      kind,
      jurisdiction: typeof jurisdiction === 'string' ? jurisdiction : '',
      release,
    });
  }
}

/** Issues an embedded-mode token for a principal declared in the configuration. */
export async function issueToken(
  config: CustosConfig,
  key: KeyObject,
  principalId: string,
  ttlSec: number,
  nowMs: number,
  release?: string,
): Promise<string> {
  if (!config.principals.some((p) => p.id === principalId)) {
    throw new CustosError(
      'PRINCIPAL_UNKNOWN',
      `principal "${principalId}" is not declared in the configuration`,
    );
  }
  if (!Number.isSafeInteger(ttlSec) || ttlSec < 1 || ttlSec > config.auth.maxTokenTtlSec) {
    throw new CustosError('VALIDATION_FAILED', `ttl must be 1..${config.auth.maxTokenTtlSec} seconds`);
  }
  const iat = Math.floor(nowMs / 1000);
  const jwt = new SignJWT(release === undefined ? {} : { [config.auth.claims.release]: release })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setSubject(principalId)
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttlSec);
  return jwt.sign(key);
}
