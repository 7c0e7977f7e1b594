import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cosignatureMessage,
  createNoteSigner,
  ed25519Sign,
  encodeEntry,
  formatNote,
  type GeneratedNoteKey,
  generateNoteKey,
  MerkleTree,
  type NoteSigner,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  toBase64,
} from '@custos/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable, printableLines } from '../src/cli/printable.js';
import { MAX_HASH_TILE_BYTES } from '../src/cli/read-limits.js';
import { runCli as run, writeLog } from './helpers/cli-run.js';
import { sampleEntry } from './helpers/entries.js';
import { createLog, type LogFixture } from './helpers/log-fixture.js';

let root: string;
let log: LogFixture;
let witness: GeneratedNoteKey;

beforeAll(async () => {
  [root, log, witness] = await Promise.all([
    mkdtemp(join(tmpdir(), 'custos-verify-hostile-')),
    createLog(300),
    generateNoteKey('witness.example/w1', 4),
  ]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The log's files with another checkpoint, written to a fresh directory under the test root. */
async function logWith(name: string, checkpoint: string): Promise<string> {
  const dir = join(root, name);
  const files = new Map(log.files);
  files.set('checkpoint', new TextEncoder().encode(checkpoint));
  await writeLog(dir, files);
  return dir;
}

/** The log's checkpoint signed by its key and by `cosigners`. */
async function cosigned(cosigners: NoteSigner[]): Promise<string> {
  const checkpoint = { origin: log.origin, size: log.entries.length, root: log.root, extensions: [] };
  return signCheckpoint(checkpoint, await createNoteSigner(log.key.signerKey), cosigners);
}

/** A cosigner claiming any uint64 timestamp (createCosigner only takes safe integers). */
async function cosignerAt(key: GeneratedNoteKey, timestamp: bigint): Promise<NoteSigner> {
  const { seed } = await parseSignerKey(key.signerKey);
  const { name, keyId, type } = parseVerifierKey(key.verifierKey);
  return {
    name,
    keyId,
    type,
    async sign(text) {
      const out = new Uint8Array(72);
      new DataView(out.buffer).setBigUint64(0, timestamp, false);
      out.set(await ed25519Sign(seed, cosignatureMessage(text, timestamp)), 8);
      return out;
    },
  };
}

/** `custos-verify ledger --dir DIR ARGS…` on one thread (no worker start-up per run). */
const ledgerWith = (dir: string, ...args: string[]) => run(['ledger', '--dir', dir, '--jobs', '1', ...args]);
const ledger = (dir: string, ...keys: string[]) => ledgerWith(dir, ...keys.flatMap((k) => ['--key', k]));

describe('custos-verify ledger --dir: only regular files, bounded', () => {
  it('refuses a FIFO without blocking on it: exit 2 naming the path', async () => {
    if (process.platform === 'win32') return;
    const dir = await logWith('fifo', log.checkpoint);
    const fifo = join(dir, 'tile', '0', '000');
    await rm(fifo);
    await new Promise((resolve, reject) => spawn('mkfifo', [fifo]).on('exit', resolve).on('error', reject));
    // Without O_NONBLOCK the open would wait for a writer forever, blocking this thread; this
    // writer (opened read-write, which never blocks) turns that into a wrong result instead.
    const writer: ChildProcess = spawn('sh', ['-c', 'sleep 2; exec 3<>"$0"', fifo]);
    try {
      const r = await ledger(dir, log.key.verifierKey);
      expect(r.code).toBe(2);
      expect(r.err).toContain('cannot read tile/0/000: not a regular file');
    } finally {
      writer.kill();
    }
  });

  it('refuses a file larger than any valid tile: exit 2 naming the path', async () => {
    const dir = await logWith('big-tile', log.checkpoint);
    await writeFile(join(dir, 'tile', '0', '000'), new Uint8Array(MAX_HASH_TILE_BYTES + 1));
    const r = await ledger(dir, log.key.verifierKey);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot read tile/0/000: ${MAX_HASH_TILE_BYTES + 1} bytes, more than the`);
  });

  it('still follows a symbolic link to a regular file', async () => {
    const dir = await logWith('linked', log.checkpoint);
    const elsewhere = join(root, 'checkpoint-elsewhere');
    await writeFile(elsewhere, log.checkpoint);
    await rm(join(dir, 'checkpoint'));
    await symlink(elsewhere, join(dir, 'checkpoint'));
    expect((await ledger(dir, log.key.verifierKey)).code).toBe(0);
  });
});

describe('custos-verify ledger: witness keys and cosignatures', () => {
  it('requires a cosignature by every witness key given, unless --min-witnesses says fewer', async () => {
    const bare = await logWith('no-cosignature', log.checkpoint);
    const r = await ledger(bare, log.key.verifierKey, witness.verifierKey);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'FAIL checkpoint-witness: 0 of the 1 trusted witnesses cosigned the checkpoint, 1 required',
    );
    const relaxed = await ledgerWith(
      bare,
      ...['--key', log.key.verifierKey, '--key', witness.verifierKey, '--min-witnesses', '0'],
    );
    expect(relaxed.code).toBe(0);
    const signed = await logWith('cosigned', await cosigned([await createNoteSigner(witness.signerKey)]));
    expect((await ledger(signed, log.key.verifierKey, witness.verifierKey)).code).toBe(0);
  });

  it('exits 2 when --min-witnesses exceeds the witness keys given or is not a number', async () => {
    for (const n of ['2', 'x', '-1', '1.0']) {
      const r = await run([
        ...['ledger', '--dir', root, '--key', log.key.verifierKey, '--key', witness.verifierKey],
        `--min-witnesses=${n}`,
      ]);
      expect(r.code, n).toBe(2);
      expect(r.err).toContain('--min-witnesses must be a whole number from 0 to 1');
    }
  });

  it('rejects an invalid signature by any trusted key, not only the log and cosigner keys', async () => {
    const other = await generateNoteKey('witness.example/ed');
    const signer = await createNoteSigner(other.signerKey);
    // A signature line by that key over other text: well formed, but it does not verify.
    const wrong = await signer.sign(new TextEncoder().encode('other text\n'));
    const forged = formatNote('x\n', [{ name: signer.name, keyId: signer.keyId, signature: wrong }]).split(
      '\n\n',
    )[1];
    const dir = await logWith('bad-other-signature', log.checkpoint + forged);
    expect((await ledger(dir, log.key.verifierKey)).code).toBe(0);
    const r = await ledger(dir, log.key.verifierKey, other.verifierKey);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL checkpoint-signature: signature by witness.example/ed does not verify');
  });

  it('prints a far-future cosignature time safely and keeps it exact in --json', async () => {
    const at52 = await logWith('cosigned-2p52', await cosigned([await cosignerAt(witness, 2n ** 52n)]));
    const text = await ledger(at52, log.key.verifierKey, witness.verifierKey);
    expect(text.code).toBe(0);
    expect(text.out).toContain('cosigned by:     witness.example/w1 at 4503599627370496 s after 1970-01-01');
    const keys = ['--key', log.key.verifierKey, '--key', witness.verifierKey];
    const json = await ledgerWith(at52, ...keys, '--json');
    expect(JSON.parse(json.out).cosignatures).toEqual([{ name: 'witness.example/w1', timestamp: 2 ** 52 }]);
    const at62 = await logWith('cosigned-2p62', await cosigned([await cosignerAt(witness, 2n ** 62n)]));
    const big = await ledgerWith(at62, ...keys, '--json');
    expect(big.code).toBe(0);
    expect(JSON.parse(big.out).cosignatures[0].timestamp).toBe('4611686018427387904');
    const now = await logWith('cosigned-now', await cosigned([await cosignerAt(witness, 1700000000n)]));
    expect((await ledger(now, log.key.verifierKey, witness.verifierKey)).out).toContain(
      'at 2023-11-14T22:13:20.000Z',
    );
  });

  it('keeps --state usable when a witness key is added, and advances it only past the quorum', async () => {
    const state = join(root, 'witness-state');
    const bare = await logWith('state-bare', log.checkpoint);
    expect((await ledgerWith(bare, '--key', log.key.verifierKey, '--state', state)).code).toBe(0);
    const withWitness = ['--key', log.key.verifierKey, '--key', witness.verifierKey, '--state', state];
    const refused = await ledgerWith(bare, ...withWitness);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('FAIL checkpoint-witness');
    const signed = await cosigned([await createNoteSigner(witness.signerKey)]);
    expect((await ledgerWith(await logWith('state-cosigned', signed), ...withWitness)).code).toBe(0);
    expect(await readFile(state, 'utf8')).toBe(signed);
  });
});

describe('custos-verify: the same --key twice is a usage error', () => {
  it.each([
    ['ledger', () => ['ledger', '--dir', root, '--jobs', '1']],
    ['ledger --state', () => ['ledger', '--dir', root, '--jobs', '1', '--state', join(root, 'dup-state')]],
    ['proof', () => ['proof', '--receipt', '-']],
  ])('%s exits 2', async (_name, args) => {
    const r = await run([...args(), '--key', log.key.verifierKey, '--key', ` ${log.key.verifierKey}`]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--key #2 repeats a key given before');
  });
});

describe('printable', () => {
  it.each([
    ['C0 controls', 'a\u0000b\u001bc\td', 'a\\u0000b\\u001bc\\u0009d'],
    ['DEL and C1 controls', '\u007f\u0080\u009b', '\\u007f\\u0080\\u009b'],
    ['bidi formatting', '\u202e\u2066\u200f\u061c', '\\u202e\\u2066\\u200f\\u061c'],
    ['line breaks', 'a\r\nb', 'a\\u000d\\u000ab'],
    ['plain text, accents and emoji', 'café ✓ 😀', 'café ✓ 😀'],
  ])('escapes %s', (_name, text, want) => {
    expect(printable(text)).toBe(want);
  });

  it('keeps newlines only in whole output lines', () => {
    expect(printableLines('one\ntwo\u001b')).toBe('one\ntwo\\u001b');
  });
});

describe('custos-verify proof: hostile receipts', () => {
  let tree: MerkleTree;
  let entries: Uint8Array[];
  let checkpoint: string;
  const receipt = (index: number, entry: string) => ({
    index,
    entry,
    proof: tree.inclusionProof(index).map(toBase64),
    checkpoint,
  });
  const prove = (r: object, ...extra: string[]) =>
    run(['proof', '--receipt', '-', '--key', log.key.verifierKey, ...extra], JSON.stringify(r));

  beforeAll(async () => {
    entries = [
      encodeEntry(sampleEntry(0)),
      encodeEntry(sampleEntry(1, { action: 'records.read\uFFFD' })),
      encodeEntry(sampleEntry(2, { action: 'records.read\r\u001b[2K\u202eOK: \u009b1m' })),
    ];
    tree = new MerkleTree();
    for (const e of entries) tree.append(e);
    const cp = { origin: log.origin, size: entries.length, root: tree.root(), extensions: [] };
    checkpoint = await signCheckpoint(cp, await createNoteSigner(log.key.signerKey));
  });

  it('rejects an entry string with a lone surrogate standing for U+FFFD: exit 1', async () => {
    const real = new TextDecoder().decode(entries[1]);
    expect((await prove(receipt(1, real))).code).toBe(0);
    const r = await prove(receipt(1, real.replace('\uFFFD', '\uD800')));
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL receipt');
  });

  it('prints control and bidi characters of the entry escaped', async () => {
    const r = await prove(receipt(2, new TextDecoder().decode(entries[2])));
    expect(r.code).toBe(0);
    expect(r.out).toContain('records.read\\u000d\\u001b[2K\\u202eOK: \\u009b1m');
    for (const raw of ['\r', '\u001b', '\u202e', '\u009b']) expect(r.out).not.toContain(raw);
  });

  it('requires the witness cosignatures on the receipt checkpoint too', async () => {
    const r = await prove(receipt(0, new TextDecoder().decode(entries[0])), '--key', witness.verifierKey);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL COSIGNATURE_MISSING');
    const relaxed = await prove(
      receipt(0, new TextDecoder().decode(entries[0])),
      ...['--key', witness.verifierKey, '--min-witnesses', '0'],
    );
    expect(relaxed.code).toBe(0);
  });
});

describe('custos-verify ledger --state: safe writes', () => {
  it('writes through a symbolic link, never through a planted temporary file', async () => {
    const dir = await logWith('state-log', log.checkpoint);
    const real = join(root, 'real-state');
    const link = join(root, 'state-link');
    await symlink(real, link);
    const dangling = await ledgerWith(dir, '--key', log.key.verifierKey, '--state', link);
    expect(dangling.code).toBe(2);
    expect(dangling.err).toContain('symbolic link to a file that does not exist');

    await writeFile(real, log.checkpoint);
    // The temporary name the verifier used to write: a link planted there must not be followed.
    const victim = join(root, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, `${link}.${process.pid}.tmp`);
    await symlink(victim, `${real}.${process.pid}.tmp`);
    const r = await ledgerWith(dir, '--key', log.key.verifierKey, '--state', link);
    expect(r.code).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe(log.checkpoint);
    if (process.platform !== 'win32') expect((await stat(real)).mode & 0o777).toBe(0o600);
  });
});
