import { createHash } from 'node:crypto';
import {
  addNoteSignatures,
  COSIGNATURE_SIZE,
  computeKeyId,
  cosignatureMessage,
  cosignatureTimestamp,
  createCosignatureVerifier,
  createCosigner,
  createNoteSigner,
  ed25519PublicKeyFromSeed,
  emptyRoot,
  formatCheckpoint,
  formatKeyId,
  formatNote,
  formatVerifierKey,
  generateNoteKey,
  hashLeaf,
  isVerifyError,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  signCheckpoint,
  signNote,
  type VerifyErrorCode,
  verifyCheckpoint,
  witnessCount,
  witnessKeys,
} from '@custos/verify';
import { describe, expect, it } from 'vitest';

function codeOf(f: () => unknown): VerifyErrorCode | undefined {
  try {
    f();
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

async function asyncCode(p: Promise<unknown>): Promise<VerifyErrorCode | undefined> {
  try {
    await p;
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

const ROOT = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';

describe('checkpoint text (c2sp.org/tlog-checkpoint)', () => {
  it('parses and formats the spec example', () => {
    const text = `example.com/behind-the-sofa\n20852163\n${ROOT}\n`;
    const cp = parseCheckpoint(text);
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.size).toBe(20852163);
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(text);
    const ext = parseCheckpoint(`${text}ext one\nsecond\n`);
    expect(ext.extensions).toEqual(['ext one', 'second']);
    expect(formatCheckpoint(ext)).toBe(`${text}ext one\nsecond\n`);
    expect(parseCheckpoint(`o\n0\n${ROOT}\n`).size).toBe(0);
  });

  it.each([
    ['no final newline', `o\n1\n${ROOT}`],
    ['two lines', 'o\n1\n'],
    ['empty origin', `\n1\n${ROOT}\n`],
    ['leading zero', `o\n01\n${ROOT}\n`],
    ['negative size', `o\n-1\n${ROOT}\n`],
    ['plus sign', `o\n+1\n${ROOT}\n`],
    ['hex size', `o\n0x10\n${ROOT}\n`],
    ['size above 2^53', `o\n9007199254740993\n${ROOT}\n`],
    ['size of 2^64', `o\n18446744073709551616\n${ROOT}\n`],
    ['spaces around size', `o\n 1\n${ROOT}\n`],
    ['short root', 'o\n1\nAAAA\n'],
    ['long root', `o\n1\n${ROOT.slice(0, -1)}AAAA\n`],
    ['unpadded root', `o\n1\n${ROOT.slice(0, -1)}\n`],
    ['empty extension line', `o\n1\n${ROOT}\n\n`],
    ['control character in origin', `o\u0007\n1\n${ROOT}\n`],
  ])('rejects %s (CHECKPOINT_MALFORMED)', (_name, text) => {
    expect(codeOf(() => parseCheckpoint(text))).toBe('CHECKPOINT_MALFORMED');
  });

  it('refuses to format invalid checkpoints', () => {
    expect(codeOf(() => formatCheckpoint({ origin: '', size: 1, root: emptyRoot(), extensions: [] }))).toBe(
      'CHECKPOINT_MALFORMED',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'o', size: -1, root: emptyRoot(), extensions: [] }))).toBe(
      'CHECKPOINT_MALFORMED',
    );
    expect(
      codeOf(() => formatCheckpoint({ origin: 'o', size: 1, root: new Uint8Array(31), extensions: [] })),
    ).toBe('CHECKPOINT_MALFORMED');
    expect(
      codeOf(() => formatCheckpoint({ origin: 'o', size: 1, root: emptyRoot(), extensions: [''] })),
    ).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('signed checkpoints', () => {
  const origin = 'custos.example/custos/US';
  const cp = { origin, size: 3, root: hashLeaf(new Uint8Array([1])), extensions: [] };

  it('verifies a checkpoint signed by the key named after the origin', async () => {
    const k = await generateNoteKey(origin);
    const note = await signCheckpoint(cp, await createNoteSigner(k.signerKey));
    const v = await verifyCheckpoint(note, [parseVerifierKey(k.verifierKey)]);
    expect(v.checkpoint).toEqual(cp);
    expect(v.cosignatures).toEqual([]);
  });

  it('rejects a checkpoint signed by another key (ORIGIN_MISMATCH or NOTE_UNVERIFIED)', async () => {
    const log = await generateNoteKey(origin);
    const other = await generateNoteKey('attacker.example');
    const sameName = await generateNoteKey(origin);
    const note = await signCheckpoint(cp, await createNoteSigner(log.signerKey));
    expect(await asyncCode(verifyCheckpoint(note, [parseVerifierKey(other.verifierKey)]))).toBe(
      'ORIGIN_MISMATCH',
    );
    expect(await asyncCode(verifyCheckpoint(note, [parseVerifierKey(sameName.verifierKey)]))).toBe(
      'NOTE_UNVERIFIED',
    );
    // A note signed by a trusted key whose name is not the origin is not a checkpoint of that log.
    const misnamed = await signCheckpoint(
      { ...cp, origin: 'attacker.example' },
      await createNoteSigner(other.signerKey),
    );
    expect(await asyncCode(verifyCheckpoint(misnamed, [parseVerifierKey(log.verifierKey)]))).toBe(
      'ORIGIN_MISMATCH',
    );
    expect(await asyncCode(signCheckpoint(cp, await createNoteSigner(other.signerKey)))).toBe(
      'ORIGIN_MISMATCH',
    );
  });

  it('rejects a failing signature by any trusted key, also one not named after the origin', async () => {
    const log = await generateNoteKey(origin);
    const other = await generateNoteKey('witness.example/ed');
    const otherSigner = await createNoteSigner(other.signerKey);
    const note = await signCheckpoint(cp, await createNoteSigner(log.signerKey));
    const wrong = await otherSigner.sign(new TextEncoder().encode('other text\n'));
    const line = formatNote('x\n', [{ name: otherSigner.name, keyId: otherSigner.keyId, signature: wrong }]);
    const forged = note + line.slice('x\n\n'.length);
    const logKey = parseVerifierKey(log.verifierKey);
    await expect(verifyCheckpoint(forged, [logKey])).resolves.toBeDefined();
    expect(await asyncCode(verifyCheckpoint(forged, [logKey, parseVerifierKey(other.verifierKey)]))).toBe(
      'SIGNATURE_INVALID',
    );
    // A valid signature by that key is still not the log's.
    const byOther = await signNote(formatCheckpoint(cp), [otherSigner]);
    expect(await asyncCode(verifyCheckpoint(byOther, [logKey, parseVerifierKey(other.verifierKey)]))).toBe(
      'NOTE_UNVERIFIED',
    );
  });

  it('requires cosignatures by the trusted witness keys: all by default, or minWitnesses', async () => {
    const log = await generateNoteKey(origin);
    const w1 = await generateNoteKey('w1.example', 4);
    const w2 = await generateNoteKey('w2.example', 4);
    const keys = [log, w1, w2].map((k) => parseVerifierKey(k.verifierKey));
    const note = await signCheckpoint(cp, await createNoteSigner(log.signerKey), [
      await createNoteSigner(w1.signerKey),
    ]);
    expect(await asyncCode(verifyCheckpoint(note, keys))).toBe('COSIGNATURE_MISSING');
    expect((await verifyCheckpoint(note, keys, { minWitnesses: 1 })).cosignatures).toHaveLength(1);
    expect(await asyncCode(verifyCheckpoint(note, keys, { minWitnesses: 3 }))).toBe('INPUT_INVALID');
    expect(await asyncCode(verifyCheckpoint(note, keys, { minWitnesses: 0.5 }))).toBe('INPUT_INVALID');
    expect(witnessKeys(keys).map((k) => k.name)).toEqual(['w1.example', 'w2.example']);
  });

  it('counts witnesses, not keys: two keys of one witness do not stand in for another', async () => {
    const log = await generateNoteKey(origin);
    const w1a = await generateNoteKey('w1.example', 4);
    const w1b = await generateNoteKey('w1.example', 4);
    const w2 = await generateNoteKey('w2.example', 4);
    const keys = [log, w1a, w1b, w2].map((k) => parseVerifierKey(k.verifierKey));
    expect(witnessCount(keys)).toBe(2);
    const note = await signCheckpoint(cp, await createNoteSigner(log.signerKey), [
      await createNoteSigner(w1a.signerKey),
      await createNoteSigner(w1b.signerKey),
    ]);
    expect(await asyncCode(verifyCheckpoint(note, keys, { minWitnesses: 2 }))).toBe('COSIGNATURE_MISSING');
    expect(await asyncCode(verifyCheckpoint(note, keys))).toBe('COSIGNATURE_MISSING');
    expect((await verifyCheckpoint(note, keys, { minWitnesses: 1 })).cosignatures).toHaveLength(2);
    expect(await asyncCode(verifyCheckpoint(note, keys, { minWitnesses: 3 }))).toBe('INPUT_INVALID');
  });

  it('rejects a malformed checkpoint body and a tampered size', async () => {
    const k = await generateNoteKey(origin);
    const signer = await createNoteSigner(k.signerKey);
    const note = await signCheckpoint(cp, signer);
    const vkeys = [parseVerifierKey(k.verifierKey)];
    expect(await asyncCode(verifyCheckpoint(note.replace(`\n3\n`, '\n4\n'), vkeys))).toBe(
      'SIGNATURE_INVALID',
    );
    expect(await asyncCode(verifyCheckpoint(note.replace(`\n3\n`, '\n03\n'), vkeys))).toBe(
      'CHECKPOINT_MALFORMED',
    );
    expect(await asyncCode(verifyCheckpoint('garbage', vkeys))).toBe('NOTE_MALFORMED');
  });
});

describe('cosignatures (c2sp.org/tlog-cosignature, cosignature/v1)', () => {
  const origin = 'example.com/log';
  const cp = { origin, size: 20852163, root: Buffer.from(ROOT, 'base64'), extensions: [] };
  const seed = new Uint8Array(32).fill(4);

  it('signs "cosignature/v1\\ntime <T>\\n" + checkpoint with a type 0x04 key ID', async () => {
    const text = new TextEncoder().encode(formatCheckpoint(cp));
    expect(new TextDecoder().decode(cosignatureMessage(text, 1679315147n))).toBe(
      `cosignature/v1\ntime 1679315147\nexample.com/log\n20852163\n${ROOT}\n`,
    );
    const pub = await ed25519PublicKeyFromSeed(seed);
    const want = createHash('sha256')
      .update(Buffer.concat([Buffer.from('w1.example\n'), Buffer.from([4]), pub]))
      .digest();
    expect(computeKeyId('w1.example', SIGNATURE_TYPE_COSIGNATURE_V1, pub)).toBe(want.readUInt32BE(0));
    const vkey = formatVerifierKey('w1.example', pub, SIGNATURE_TYPE_COSIGNATURE_V1);
    expect(Buffer.from(vkey.split('+')[2] as string, 'base64')[0]).toBe(4);
    expect(formatKeyId(parseVerifierKey(vkey).keyId)).toBe(vkey.split('+')[1]);
  });

  it('verifies cosignatures on a checkpoint and reports their timestamps', async () => {
    const log = await generateNoteKey(origin);
    const witness = await createCosigner('witness.example/w1', seed, () => 1700000000);
    const note = await signCheckpoint(cp, await createNoteSigner(log.signerKey), [witness]);
    const sig = parseNote(note).signatures[1];
    expect(sig?.signature.length).toBe(COSIGNATURE_SIZE);
    expect(cosignatureTimestamp(sig?.signature as Uint8Array)).toBe(1700000000n);
    const witnessKey = parseVerifierKey(
      formatVerifierKey('witness.example/w1', await ed25519PublicKeyFromSeed(seed), 4),
    );
    const v = await verifyCheckpoint(note, [parseVerifierKey(log.verifierKey), witnessKey]);
    expect(v.cosignatures).toEqual([
      { name: 'witness.example/w1', keyId: witness.keyId, timestamp: 1700000000n },
    ]);
  });

  it('rejects a cosignature whose timestamp or body was changed', async () => {
    const log = await generateNoteKey(origin);
    const logSigner = await createNoteSigner(log.signerKey);
    const witness = await createCosigner('w2', seed, () => 1700000000);
    const verifier = createCosignatureVerifier('w2', await ed25519PublicKeyFromSeed(seed));
    const note = await addNoteSignatures(await signCheckpoint(cp, logSigner), [witness]);
    const parsed = parseNote(note);
    const cosig = parsed.signatures[1]?.signature as Uint8Array;
    expect(await verifier.verify(parsed.textBytes, cosig)).toBe(true);
    const later = cosig.slice();
    later[7] = (later[7] as number) + 1;
    expect(await verifier.verify(parsed.textBytes, later)).toBe(false);
    expect(await verifier.verify(parsed.textBytes, cosig.subarray(8))).toBe(false);
    const huge = cosig.slice();
    huge[0] = 0x80;
    expect(await verifier.verify(parsed.textBytes, huge)).toBe(false);
    const logKey = parseVerifierKey(log.verifierKey);
    const tampered = note.replace(/(— w2 )(\S+)/, (_m, p: string, b64: string) => {
      const raw = Buffer.from(b64, 'base64');
      raw[12] = (raw[12] as number) ^ 1;
      return p + raw.toString('base64');
    });
    expect(await asyncCode(verifyCheckpoint(tampered, [logKey, verifier]))).toBe('SIGNATURE_INVALID');
    // A cosignature alone is not the log's signature.
    const onlyWitness = `${parsed.text}\n— w2 ${note.split('— w2 ')[1]}`;
    expect(await asyncCode(verifyCheckpoint(onlyWitness, [logKey, verifier]))).toBe('NOTE_UNVERIFIED');
    expect(codeOf(() => cosignatureTimestamp(new Uint8Array(64)))).toBe('COSIGNATURE_INVALID');
  });
});
