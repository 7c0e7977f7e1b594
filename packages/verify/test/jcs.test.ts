import { canonicalize, canonicalizeToBytes, isVerifyError } from '@custos/verify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function ieee754(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
const APPENDIX_B: readonly [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isVerifyError(err) ? err.code : 'not a VerifyError';
  }
  return undefined;
}

describe('RFC 8785 JSON Canonicalization Scheme', () => {
  it.each(APPENDIX_B)('Appendix B: %s serialises as %s', (hex, text) => {
    expect(canonicalize(ieee754(hex))).toBe(text);
  });

  it.each(['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000'])(
    'Appendix B: %s (NaN/Infinity) is an error',
    (hex) => {
      expect(codeOf(() => canonicalize(ieee754(hex)))).toBe('JSON_INVALID');
    },
  );

  it('§3.2.4: transforms the sample input exactly', () => {
    const input = JSON.parse(
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    expect(Buffer.from(canonicalizeToBytes(input)).toString('hex').slice(0, 20)).toBe('7b226c69746572616c73');
  });

  it('§3.2.3: sorts property names by UTF-16 code units', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    );
    const c = canonicalize(input);
    // (Object.keys would list "1" first: JS orders integer-like keys, so look at positions.)
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      c.indexOf(`${JSON.stringify(k)}:`),
    );
    expect(order.every((p, i) => p > 0 && (i === 0 || p > (order[i - 1] as number)))).toBe(true);
    expect(canonicalize(input).startsWith('{"\\r":"Carriage Return","1":"One"')).toBe(true);
  });

  it('drops undefined members, rejects what JSON cannot carry', () => {
    expect(canonicalize({ b: 1, a: undefined, c: [true, null] })).toBe('{"b":1,"c":[true,null]}');
    expect(canonicalize(-0)).toBe('0');
    expect(codeOf(() => canonicalize([undefined]))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize({ a: Number.POSITIVE_INFINITY }))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize('\ud800'))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize({ '\udc00': 1 }))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize(10n))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize(() => 1))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize(new Date(0)))).toBe('JSON_INVALID');
    expect(codeOf(() => canonicalize(new Map()))).toBe('JSON_INVALID');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(codeOf(() => canonicalize(deep))).toBe('JSON_INVALID');
  });

  it('is idempotent and agrees with JSON.parse on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const c = canonicalize(v);
        expect(canonicalize(JSON.parse(c))).toBe(c);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });
});
