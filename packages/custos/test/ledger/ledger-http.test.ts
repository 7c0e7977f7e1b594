import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  auditLedger,
  buildTiles,
  fromBase64,
  hashLeaf,
  parseVerifierKey,
  rootFromLeafHashes,
  type TileSource,
  verifyCheckpoint,
  verifyConsistency,
} from '@custos/verify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Custos } from '../../src/composition-root.js';
import { createServer } from '../../src/interfaces/http/server.js';
import { issueToken } from '../../src/services/auth/authenticator.js';
import { demoCustos } from '../helpers.js';
import { accessEntry, runVerifier } from './ledger-helpers.js';

describe('ledger HTTP routes', () => {
  let custos: Custos;
  let app: FastifyInstance;
  let dir: string;
  let cleanup: () => Promise<void>;
  let entries: Uint8Array[];
  const SIZE = 300;
  beforeAll(async () => {
    ({ custos, cleanup, dir } = await demoCustos());
    app = await createServer(custos);
    const key = custos.tokenKey?.privateKey;
    if (!key) throw new Error('no embedded token key');
    auditorToken = await issueToken(custos.config, key, 'auditor', 3600, custos.clock.now());
    const inputs = Array.from({ length: SIZE }, (_, i) => accessEntry(custos.ledger, i));
    await Promise.all(inputs.map((e) => custos.ledger.append(e)));
    entries = inputs.map((e) => custos.ledger.encode(e));
    await custos.ledger.checkpoint();
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  let auditorToken = '';
  const get = (url: string) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${auditorToken}` } });

  it('serves the signed checkpoint and the verifier key as text', async () => {
    const vkey = await get('/ledger/vkey');
    expect(vkey.statusCode).toBe(200);
    expect(vkey.body.trim()).toBe(custos.ledger.verifierKey);
    const r = await get('/ledger/checkpoint');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const { checkpoint } = await verifyCheckpoint(r.body, [parseVerifierKey(vkey.body.trim())]);
    expect(checkpoint.size).toBe(SIZE);
    expect(checkpoint.origin).toBe(custos.config.ledger.origin);
  });

  it('serves every tile and bundle exactly as tlog-tiles lays them out', async () => {
    const want = buildTiles(entries);
    expect([...want.keys()].sort()).toEqual(
      ['tile/0/000', 'tile/0/001.p/44', 'tile/1/000.p/1', 'tile/entries/000', 'tile/entries/001.p/44'].sort(),
    );
    for (const [path, bytes] of want) {
      const r = await get(`/ledger/${path}`);
      expect(r.statusCode, path).toBe(200);
      expect(Buffer.from(r.rawPayload).equals(Buffer.from(bytes)), path).toBe(true);
      const full = !path.includes('.p/');
      expect(r.headers['cache-control']).toBe(full ? 'public, max-age=31536000, immutable' : 'no-cache');
      expect(r.headers['content-type']).toBe('application/octet-stream');
    }
    const narrow = await get('/ledger/tile/0/000.p/10');
    expect(
      Buffer.from(narrow.rawPayload).equals(Buffer.from((want.get('tile/0/000') ?? []).slice(0, 320))),
    ).toBe(true);
  });

  it('answers 404 for tiles beyond the ledger and 400 for paths that are not canonical', async () => {
    for (const path of ['tile/0/001', 'tile/0/002.p/3', 'tile/entries/001', 'tile/1/000', 'tile/2/000.p/1']) {
      const r = await get(`/ledger/${path}`);
      expect(r.statusCode, path).toBe(404);
      expect(r.json().code).toBe('NOT_FOUND');
    }
    for (const path of [
      'tile/0/1',
      'tile/0/x000/001',
      'tile/0/000.p/256',
      'tile/0/000.p/0',
      'tile/64/000',
      'tile/entries/abc',
    ]) {
      const r = await get(`/ledger/${path}`);
      expect(r.statusCode, path).toBe(400);
      expect(r.json().code).toBe('BAD_REQUEST');
    }
  });

  it('serves receipts that custos-verify proof accepts', async () => {
    for (const index of [0, 255, 299]) {
      const r = await get(`/v1/ledger/entries/${index}`);
      expect(r.statusCode).toBe(200);
      const receipt = r.json() as { index: number; entry: string };
      expect(receipt.index).toBe(index);
      expect(Buffer.from(receipt.entry).equals(Buffer.from(entries[index] ?? []))).toBe(true);
      const file = join(dir, `receipt-${index}.json`);
      writeFileSync(file, r.body);
      const v = await runVerifier(['proof', '--receipt', file, '--key', custos.ledger.verifierKey]);
      expect(v.out).toContain('OK');
      expect(v.code).toBe(0);
    }
    const missing = await get(`/v1/ledger/entries/${SIZE}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('ENTRY_NOT_FOUND');
    for (const bad of ['abc', '01', '-1', '99999999999999999999']) {
      const r = await get(`/v1/ledger/entries/${bad}`);
      expect(r.statusCode, bad).toBe(400);
      expect(['VALIDATION_FAILED', 'BAD_REQUEST']).toContain(r.json().code);
    }
  });

  it('serves consistency proofs and refuses bad sizes', async () => {
    const cp = await verifyCheckpoint((await get('/ledger/checkpoint')).body, [
      parseVerifierKey(custos.ledger.verifierKey),
    ]);
    const small = await custos.ledger.inclusionProof(0, 1);
    expect(small).toEqual([]);
    const r = await get('/v1/ledger/proofs/consistency?from=1&to=300');
    expect(r.statusCode).toBe(200);
    const body = r.json() as { from: number; to: number; proof: string[] };
    expect(body.from).toBe(1);
    verifyConsistency(
      1,
      300,
      entriesRoot(entries.slice(0, 1)),
      cp.checkpoint.root,
      body.proof.map(fromBase64),
    );
    for (const q of ['from=5&to=301', 'from=6&to=5', 'from=1', 'from=a&to=3', 'from=1&to=2&x=1']) {
      const bad = await get(`/v1/ledger/proofs/consistency?${q}`);
      expect(bad.statusCode, q).toBe(400);
      expect(['VALIDATION_FAILED', 'BAD_REQUEST']).toContain(bad.json().code);
    }
  });

  it('passes a full audit over the served tiles, lists the routes in OpenAPI and reports readiness', async () => {
    const source: TileSource = {
      get: async (path) => {
        const r = await get(`/ledger/${path}`);
        return r.statusCode === 200 ? new Uint8Array(r.rawPayload) : undefined;
      },
    };
    const report = await auditLedger(source, { verifiers: [parseVerifierKey(custos.ledger.verifierKey)] });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entriesChecked).toBe(SIZE);
    const doc = (await get('/openapi.json')).json() as { paths: Record<string, unknown> };
    for (const p of [
      '/ledger/checkpoint',
      '/ledger/vkey',
      '/ledger/tile/{*}',
      '/v1/ledger/entries/{index}',
      '/v1/ledger/proofs/consistency',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.ledger).toBe('ok');
  });
});

function entriesRoot(leaves: Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(leaves.map((e) => hashLeaf(e)));
}
