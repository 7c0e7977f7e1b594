import {
  addNoteSignatures,
  computeKeyId,
  createEd25519NoteSigner,
  createNoteSigner,
  formatKeyId,
  formatNote,
  formatSignerKey,
  formatVerifierKey,
  generateNoteKey,
  isVerifyError,
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  type NoteVerifier,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type VerifyErrorCode,
  verifyNote,
} from '@custos/verify';
import { describe, expect, it } from 'vitest';

// The Go golang.org/x/mod/sumdb/note example key pair and note.
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIG_LINE =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const NOTE = `${TEXT}\n${SIG_LINE}`;

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

describe('verifier and signer keys', () => {
  it('reproduces the Go reference signature byte for byte (Ed25519 is deterministic)', async () => {
    const v = parseVerifierKey(VKEY);
    expect({ name: v.name, keyId: formatKeyId(v.keyId), type: v.type }).toEqual({
      name: 'PeterNeumann',
      keyId: 'c74f20a3',
      type: 1,
    });
    const key = await parseSignerKey(SKEY);
    expect(key.verifierKey).toBe(VKEY);
    expect(await signNote(TEXT, [await createNoteSigner(SKEY)])).toBe(NOTE);
    expect(await formatSignerKey('PeterNeumann', key.seed)).toBe(SKEY);
  });

  it('splits keys at the first two + only (base64 contains +)', () => {
    const raw = Buffer.from(VKEY.split('+').slice(2).join('+'), 'base64');
    expect(formatVerifierKey('PeterNeumann', new Uint8Array(raw.subarray(1)))).toBe(VKEY);
    expect(VKEY.split('+').length).toBe(3);
    expect(SKEY.split('+').length).toBe(6);
  });

  it('rejects every proper substring and every single-byte change of a verifier key', () => {
    for (let i = 0; i <= VKEY.length; i++) {
      for (let j = i + 1; j <= VKEY.length; j++) {
        if (i === 0 && j === VKEY.length) continue;
        expect(codeOf(() => parseVerifierKey(VKEY.slice(i, j)))).toBe('KEY_MALFORMED');
      }
    }
    for (let i = 0; i < VKEY.length; i++) {
      const mangled = VKEY.slice(0, i) + String.fromCharCode(VKEY.charCodeAt(i) + 1) + VKEY.slice(i + 1);
      expect(codeOf(() => parseVerifierKey(mangled))).toBe('KEY_MALFORMED');
    }
  });

  it.each([
    [
      'wrong key length (Go test)',
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
    ],
    ['unknown algorithm (Go test)', 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['name with a space', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['empty name', '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short key ID', 'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['non-hex key ID', 'PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['no key', 'PeterNeumann+c74f20a3'],
    ['surrounding whitespace', ` ${VKEY}`],
  ])('rejects a verifier key with %s (KEY_MALFORMED)', (_name, vkey) => {
    expect(codeOf(() => parseVerifierKey(vkey))).toBe('KEY_MALFORMED');
  });

  it('rejects mangled signer keys', async () => {
    expect(await asyncCode(parseSignerKey(SKEY.replace('PRIVATE', 'PUBLIC')))).toBe('KEY_MALFORMED');
    expect(await asyncCode(parseSignerKey(SKEY.replace('c74f20a3', 'c74f20a4')))).toBe('KEY_MALFORMED');
    expect(await asyncCode(parseSignerKey(SKEY.slice(0, -4)))).toBe('KEY_MALFORMED');
    expect(await asyncCode(parseSignerKey(VKEY))).toBe('KEY_MALFORMED');
  });

  it('generates key pairs that sign and verify', async () => {
    const k = await generateNoteKey('example.com/log');
    expect(k.signerKey.startsWith('PRIVATE+KEY+example.com/log+')).toBe(true);
    const note = await signNote('hello\n', [await createNoteSigner(k.signerKey)]);
    const verified = await verifyNote(note, [parseVerifierKey(k.verifierKey)]);
    expect(verified.text).toBe('hello\n');
    const again = await generateNoteKey('example.com/log');
    expect(again.verifierKey).not.toBe(k.verifierKey);
    expect(computeKeyId('a', 1, new Uint8Array(32))).not.toBe(computeKeyId('a', 4, new Uint8Array(32)));
  });
});

describe('signed note parsing (C2SP signed-note)', () => {
  it('splits text and signatures at the last blank line', () => {
    const n = parseNote(NOTE);
    expect(n.text).toBe(TEXT);
    expect(n.signatures).toHaveLength(1);
    expect(formatKeyId((n.signatures[0] as NoteSignature).keyId)).toBe('c74f20a3');
    expect(formatNote(n.text, n.signatures)).toBe(NOTE);
    const withBlank = parseNote(`a\n\nb\n\n${SIG_LINE}`);
    expect(withBlank.text).toBe('a\n\nb\n');
  });

  it.each([
    ['no final newline', NOTE.slice(0, -1)],
    ['no blank line', `${TEXT}${SIG_LINE}`],
    ['no signatures', `${TEXT}\n`],
    ['an empty signature block line', `${TEXT}\n${SIG_LINE}\n`],
    ['a hyphen instead of an em dash', `${TEXT}\n${SIG_LINE.replace('—', '-')}`],
    ['no space after the dash', `${TEXT}\n${SIG_LINE.replace('— ', '—')}`],
    ['a tab', `${TEXT.replace(' ', '\t')}\n${SIG_LINE}`],
    ['a carriage return', `${TEXT.replace('\n', '\r\n')}\n${SIG_LINE}`],
    ['a NUL byte', `${TEXT}\u0000\n\n${SIG_LINE}`],
    ['a name with +', `${TEXT}\n${SIG_LINE.replace('PeterNeumann', 'Peter+Neumann')}`],
    ['a signature that is not base64', `${TEXT}\n${SIG_LINE.replace('x08go', 'x08g!')}`],
    ['unpadded base64', `${TEXT}\n${SIG_LINE.replace('=\n', '\n')}`],
    ['a signature shorter than 5 bytes', `${TEXT}\n— PeterNeumann AAAA\n`],
    ['an empty name', `${TEXT}\n—  ${SIG_LINE.slice(16)}`],
    ['a lone surrogate', `${TEXT}\ud800\n\n${SIG_LINE}`],
  ])('rejects a note with %s (NOTE_MALFORMED)', (_name, note) => {
    expect(codeOf(() => parseNote(note))).toBe('NOTE_MALFORMED');
  });

  it('rejects invalid UTF-8 bytes', () => {
    const bytes = new TextEncoder().encode(NOTE);
    const bad = new Uint8Array([...bytes.subarray(0, 3), 0xc0, 0x80, ...bytes.subarray(3)]);
    expect(codeOf(() => parseNote(bad))).toBe('NOTE_MALFORMED');
  });

  it(`accepts up to ${MAX_NOTE_SIGNATURES} signature lines (at least 16 required) and no more`, async () => {
    const others = await Promise.all(
      Array.from(
        { length: MAX_NOTE_SIGNATURES - 1 },
        async (_, i) => (await generateNoteKey(`other${i}`)).signerKey,
      ),
    );
    const signers = await Promise.all(others.map((s) => createNoteSigner(s)));
    const many = await addNoteSignatures(NOTE, signers);
    const v = await verifyNote(many, [parseVerifierKey(VKEY)]);
    expect(v.verified).toHaveLength(1);
    expect(v.unverified).toHaveLength(MAX_NOTE_SIGNATURES - 1);
    const tooMany = await addNoteSignatures(many, [await createNoteSigner(SKEY)]);
    expect(codeOf(() => parseNote(tooMany))).toBe('NOTE_MALFORMED');
  });
});

describe('signed note verification rules', () => {
  const peter = parseVerifierKey(VKEY);

  it('ignores unknown keys, even with a known name or a known key ID', async () => {
    const other = await createEd25519NoteSigner('PeterNeumann', new Uint8Array(32).fill(9));
    const impostor: NoteSignature = { name: 'Impostor', keyId: peter.keyId, signature: new Uint8Array(64) };
    const note = formatNote(TEXT, [
      { name: other.name, keyId: other.keyId, signature: await other.sign(new TextEncoder().encode(TEXT)) },
      impostor,
      ...parseNote(NOTE).signatures,
    ]);
    const v = await verifyNote(note, [peter]);
    expect(v.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(v.unverified).toHaveLength(2);
  });

  it('rejects a note whose known-key signature fails (SIGNATURE_INVALID)', async () => {
    const sig = parseNote(NOTE).signatures[0] as NoteSignature;
    const bad = sig.signature.slice();
    bad[10] = (bad[10] as number) ^ 1;
    expect(await asyncCode(verifyNote(formatNote(TEXT, [{ ...sig, signature: bad }]), [peter]))).toBe(
      'SIGNATURE_INVALID',
    );
    const twoWithOneBad = formatNote(TEXT, [sig, { ...sig, name: 'PeterNeumann', signature: bad }]);
    expect(await asyncCode(verifyNote(twoWithOneBad, [peter]))).not.toBeUndefined();
    const shortSig = formatNote(TEXT, [{ ...sig, signature: sig.signature.subarray(0, 63) }]);
    expect(await asyncCode(verifyNote(shortSig, [peter]))).toBe('SIGNATURE_INVALID');
  });

  it('rejects a note no known key signed (NOTE_UNVERIFIED)', async () => {
    const k = await generateNoteKey('someone.else');
    expect(await asyncCode(verifyNote(NOTE, [parseVerifierKey(k.verifierKey)]))).toBe('NOTE_UNVERIFIED');
    expect(await asyncCode(verifyNote(NOTE, []))).toBe('NOTE_UNVERIFIED');
    const changedText = NOTE.replace('cryptography', 'cryptographi');
    expect(await asyncCode(verifyNote(changedText, [peter]))).toBe('SIGNATURE_INVALID');
  });

  it('rejects repeated signatures by one key and ambiguous verifier sets', async () => {
    expect(await asyncCode(verifyNote(`${NOTE}${SIG_LINE}`, [peter]))).toBe('NOTE_MALFORMED');
    const twin: NoteVerifier = { ...peter, verify: async () => true };
    expect(await asyncCode(verifyNote(NOTE, [peter, twin]))).toBe('KEY_MALFORMED');
  });

  it('refuses to sign text that is not a valid note text', async () => {
    const s = await createNoteSigner(SKEY);
    expect(await asyncCode(signNote('no newline', [s]))).toBe('NOTE_MALFORMED');
    expect(await asyncCode(signNote('bell\u0007\n', [s]))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => formatNote(TEXT, []))).toBe('NOTE_MALFORMED');
  });
});
