import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEntry, generateNoteKey, MerkleTree, toBase64 } from '@custos/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run, writeLog } from './helpers/cli-run.js';
import { sampleEntry } from './helpers/entries.js';
import { createLog, type LogFixture } from './helpers/log-fixture.js';

let root: string;
let log: LogFixture;
let logDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-verify-cli-'));
  log = await createLog(700);
  logDir = join(root, 'log');
  await writeLog(logDir, log.files);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('custos-verify ledger', () => {
  it('verifies a log directory: exit 0 with a summary', async () => {
    const r = await run(['ledger', '--dir', logDir, '--key', log.key.verifierKey]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`origin:          ${log.origin}`);
    expect(r.out).toContain('size:            700');
    expect(r.out).toContain(`root:            ${toBase64(log.root)}`);
    expect(r.out).toContain('entries checked: 700');
    expect(r.out).toMatch(/time: +\d+\.\d{3} s/);
    expect(r.out).toContain('OK: ledger verified');
  });

  it('prints a JSON report with --json', async () => {
    const r = await run(['ledger', '--dir', logDir, '--key', log.key.verifierKey, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, size: 700, failures: [] });
  });

  it('exits 1 naming the check and the entry index when an entry was edited', async () => {
    const dir = join(root, 'tampered');
    const files = new Map(log.files);
    const bundle = (files.get('tile/entries/001') as Uint8Array).slice();
    const i = Buffer.from(bundle).indexOf(
      Buffer.from('records.read'),
      2 + (bundle[0] as number) * 256 + (bundle[1] as number),
    );
    bundle[i] = 'R'.charCodeAt(0);
    files.set('tile/entries/001', bundle);
    await writeLog(dir, files);
    const r = await run(['ledger', '--dir', dir, '--key', log.key.verifierKey]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'FAIL hash-tile [entry 257]: entry 257: leaf hash does not match hash tile tile/0/001',
    );
    expect(r.out).toContain('FAIL root');
  });

  it('prints the same report with one thread and with three bundle-checking threads', async () => {
    const dir = join(root, 'tampered-jobs');
    const files = new Map(log.files);
    const bundle = (files.get('tile/entries/001') as Uint8Array).slice();
    bundle[bundle.length - 3] = 'X'.charCodeAt(0);
    files.set('tile/entries/001', bundle);
    await writeLog(dir, files);
    const args = ['ledger', '--dir', dir, '--key', log.key.verifierKey, '--json'];
    const one = await run([...args, '--jobs', '1']);
    const three = await run([...args, '--jobs', '3']);
    expect(one.code).toBe(1);
    expect(three.code).toBe(1);
    const report = (out: string) => ({ ...JSON.parse(out), seconds: 0 });
    expect(report(three.out)).toEqual(report(one.out));
    expect(JSON.parse(one.out).failures.length).toBeGreaterThan(0);
    const ok = await run(['ledger', '--dir', logDir, '--key', log.key.verifierKey, '--jobs', '3']);
    expect(ok.code).toBe(0);
  });

  it.each([
    ['no arguments', ['ledger']],
    ['no key', ['ledger', '--dir', 'x']],
    ['both --url and --dir', ['ledger', '--dir', 'x', '--url', 'http://127.0.0.1:1', '--key', 'K']],
    ['an unknown option', ['ledger', '--dri', 'x']],
    ['a positional argument', ['ledger', 'extra']],
    ['an unknown command', ['audit']],
    ['--jobs 0', ['ledger', '--dir', 'x', '--key', 'K', '--jobs', '0']],
    ['--jobs that is not a number', ['ledger', '--dir', 'x', '--key', 'K', '--jobs', '2x']],
  ])('exits 2 on usage errors: %s', async (_name, args) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain('custos-verify:');
  });

  it('exits 2 on a malformed key, a missing directory, or a directory without checkpoint', async () => {
    expect((await run(['ledger', '--dir', logDir, '--key', 'not-a-key'])).code).toBe(2);
    const missing = await run(['ledger', '--dir', join(root, 'nope'), '--key', log.key.verifierKey]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot open directory');
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    const r = await run(['ledger', '--dir', empty, '--key', log.key.verifierKey]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no checkpoint');
  });

  it('exits 1 when another key signed the checkpoint', async () => {
    const other = await generateNoteKey(log.origin);
    const r = await run(['ledger', '--dir', logDir, '--key', other.verifierKey]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL checkpoint-signature');
  });

  it('keeps trusted state with --state: writes it, accepts growth, refuses rollback and forks', async () => {
    const state = join(root, 'state.txt');
    const dir = join(root, 'growing');
    const small = await createLog(0, { key: log.key, entries: log.entries.slice(0, 500) });
    await writeLog(dir, small.files);
    const first = await run(['ledger', '--dir', dir, '--key', log.key.verifierKey, '--state', state]);
    expect(first.code).toBe(0);
    expect(await readFile(state, 'utf8')).toBe(small.checkpoint);

    await writeLog(dir, log.files);
    expect((await run(['ledger', '--dir', dir, '--key', log.key.verifierKey, '--state', state])).code).toBe(
      0,
    );
    expect(await readFile(state, 'utf8')).toBe(log.checkpoint);

    await writeLog(dir, small.files);
    const rollback = await run(['ledger', '--dir', dir, '--key', log.key.verifierKey, '--state', state]);
    expect(rollback.code).toBe(1);
    expect(rollback.out).toContain('checkpoint is smaller than trusted state');
    expect(await readFile(state, 'utf8')).toBe(log.checkpoint);

    const forkedEntries = [...log.entries];
    forkedEntries[3] = encodeEntry(sampleEntry(3, { reasons: ['edited'] }));
    const forked = await createLog(0, { key: log.key, entries: forkedEntries });
    await writeLog(dir, forked.files);
    const fork = await run(['ledger', '--dir', dir, '--key', log.key.verifierKey, '--state', state]);
    expect(fork.code).toBe(1);
    expect(fork.out).toContain('fork');
  });

  it('exits 2 when the state file is not a checkpoint signed by the given keys', async () => {
    const state = join(root, 'bad-state.txt');
    await writeFile(state, 'garbage');
    const r = await run(['ledger', '--dir', logDir, '--key', log.key.verifierKey, '--state', state]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('state file');
  });

  describe('over HTTP', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const path = (req.url ?? '/').replace(/^\/log\//, '');
        if (path === 'boom') {
          res.writeHead(500).end();
          return;
        }
        const body = log.files.get(path);
        if (body === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('verifies a log served over HTTP: exit 0', async () => {
      const r = await run(['ledger', '--url', `${base}/`, '--key', log.key.verifierKey]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('OK: ledger verified');
    });

    it('exits 2 when the URL is unreachable or not http', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const r = await run(['ledger', '--url', `http://127.0.0.1:${port}/log`, '--key', log.key.verifierKey]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('cannot reach');
      expect(
        (await run(['ledger', '--url', 'ftp://example.com/log', '--key', log.key.verifierKey])).code,
      ).toBe(2);
      expect((await run(['ledger', '--url', 'not a url', '--key', log.key.verifierKey])).code).toBe(2);
    });
  });
});

describe('custos-verify proof', () => {
  let receiptFile: string;
  let receipt: { index: number; entry: string; proof: string[]; checkpoint: string };

  beforeAll(async () => {
    const tree = new MerkleTree();
    for (const e of log.entries) tree.append(e);
    const index = 345;
    receipt = {
      index,
      entry: new TextDecoder().decode(log.entries[index]),
      proof: tree.inclusionProof(index).map(toBase64),
      checkpoint: log.checkpoint,
    };
    receiptFile = join(root, 'receipt.json');
    await writeFile(receiptFile, JSON.stringify(receipt));
  });

  it('verifies a receipt: exit 0', async () => {
    const r = await run(['proof', '--receipt', receiptFile, '--key', log.key.verifierKey]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('OK: entry 345 is included in the checkpoint');
  });

  it('reads the receipt from stdin with -', async () => {
    const r = await run(['proof', '--receipt', '-', '--key', log.key.verifierKey], JSON.stringify(receipt));
    expect(r.code).toBe(0);
  });

  it.each([
    [
      'an edited entry',
      (x: typeof receipt) => ({ ...x, entry: x.entry.replace('records.read', 'records.reaD') }),
      'INCLUSION_INVALID',
    ],
    [
      'a non-canonical entry',
      (x: typeof receipt) => ({ ...x, entry: x.entry.replace(':', ': ') }),
      'ENTRY_INVALID',
    ],
    ['a wrong index', (x: typeof receipt) => ({ ...x, index: 344 }), 'INCLUSION_INVALID'],
    ['an index beyond the tree', (x: typeof receipt) => ({ ...x, index: 700 }), 'INCLUSION_INVALID'],
    ['a truncated proof', (x: typeof receipt) => ({ ...x, proof: x.proof.slice(1) }), 'INCLUSION_INVALID'],
    [
      'a proof hash that is not base64',
      (x: typeof receipt) => ({ ...x, proof: ['!!!!', ...x.proof.slice(1)] }),
      'INPUT_INVALID',
    ],
    [
      'a tampered checkpoint',
      (x: typeof receipt) => ({ ...x, checkpoint: x.checkpoint.replace('\n700\n', '\n701\n') }),
      'SIGNATURE_INVALID',
    ],
    ['a missing field', (x: typeof receipt) => ({ ...x, proof: undefined }), 'receipt'],
    ['a negative index', (x: typeof receipt) => ({ ...x, index: -1 }), 'receipt'],
  ])('exits 1 on %s', async (_name, mutate, check) => {
    const r = await run(
      ['proof', '--receipt', '-', '--key', log.key.verifierKey],
      JSON.stringify(mutate(receipt)),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${check}`);
  });

  it('exits 1 on a receipt that is not JSON, and when another key is trusted', async () => {
    expect((await run(['proof', '--receipt', '-', '--key', log.key.verifierKey], '{nope')).code).toBe(1);
    const other = await generateNoteKey(log.origin);
    const r = await run(['proof', '--receipt', receiptFile, '--key', other.verifierKey]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL NOTE_UNVERIFIED');
  });

  it('exits 2 on usage and I/O errors', async () => {
    expect((await run(['proof', '--key', log.key.verifierKey])).code).toBe(2);
    expect((await run(['proof', '--receipt', receiptFile])).code).toBe(2);
    expect(
      (await run(['proof', '--receipt', join(root, 'missing.json'), '--key', log.key.verifierKey])).code,
    ).toBe(2);
  });
});

describe('help', () => {
  it.each([[['--help']], [['help']], [['ledger', '--help']], [['proof', '-h']]])(
    '%j prints usage and exits 0',
    async (args) => {
      const r = await run(args);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: custos-verify');
    },
  );

  it('no command prints usage and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('Usage: custos-verify <command>');
  });
});
