import { isVerifyError, verifyConsistency, verifyInclusion } from '@custos/verify';
import { describe, expect, it } from 'vitest';
import { b64, listVectorFiles, readVector } from './helpers/vectors.js';

// transparency-dev/merkle testdata, one test per file (STYLE.md: spec vectors as data, in a loop).

function proofOf(v: Record<string, unknown>): Uint8Array[] {
  return ((v.proof as string[] | null) ?? []).map(b64);
}

describe('RFC 9162 inclusion vectors', () => {
  const files = listVectorFiles('merkle/inclusion');
  it('finds the vector files', () => {
    expect(files.length).toBeGreaterThan(80);
  });
  it.each(files)('%s', (file) => {
    const v = readVector(file);
    const run = () =>
      verifyInclusion(
        v.leafIdx as bigint,
        v.treeSize as bigint,
        b64(v.leafHash as string),
        proofOf(v),
        b64(v.root as string),
      );
    if (v.wantErr === true) {
      let err: unknown;
      try {
        run();
      } catch (e) {
        err = e;
      }
      expect(isVerifyError(err, 'INCLUSION_INVALID')).toBe(true);
    } else {
      expect(run).not.toThrow();
    }
  });
});

describe('RFC 9162 consistency vectors', () => {
  const files = listVectorFiles('merkle/consistency');
  it('finds the vector files', () => {
    expect(files.length).toBeGreaterThan(90);
  });
  it.each(files)('%s', (file) => {
    const v = readVector(file);
    const run = () =>
      verifyConsistency(
        v.size1 as bigint,
        v.size2 as bigint,
        b64(v.root1 as string),
        b64(v.root2 as string),
        proofOf(v),
      );
    if (v.wantErr === true) {
      let err: unknown;
      try {
        run();
      } catch (e) {
        err = e;
      }
      expect(isVerifyError(err, 'CONSISTENCY_INVALID')).toBe(true);
    } else {
      expect(run).not.toThrow();
    }
  });
});
