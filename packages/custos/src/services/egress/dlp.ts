/** What the data-loss check found (never the value itself: that would leak it into logs). */
export interface DlpHit {
  readonly detector: 'protected-value' | 'email' | 'phone' | 'government-id';
}

/**
 * Identifier patterns looked for in every outgoing payload (the encoded bytes, so JSON numbers
 * too, and their `patternView`), case-insensitively. Pseudonyms (`p:` + base64url), years, months, country codes and buckets
 * of numbers under 9 digits match none of them; a run of 9 digits reads as an SSN and one of 10 to
 * 15 as a phone number, whatever the field.
 */
const PATTERNS: readonly { readonly detector: DlpHit['detector']; readonly re: RegExp }[] = [
  { detector: 'email', re: /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/i },
  {
    detector: 'phone',
    re: new RegExp(
      [
        // International: +CC then groups.
        String.raw`\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,5}){2,4}`,
        // North American: (NNN) NNN-NNNN, NNN-NNN-NNNN, NNN.NNN.NNNN, NNN NNN NNNN.
        String.raw`\(\d{3}\) ?\d{3}[-. ]\d{4}`,
        String.raw`\b\d{3}[-. ]\d{3}[-. ]\d{4}\b`,
        // 10 to 15 digits, unseparated or separated by single spaces (also a JSON number).
        String.raw`(?<![\w.])\d(?: ?\d){9,14}(?![\w])`,
      ].join('|'),
      'i',
    ),
  },
  {
    detector: 'government-id',
    re: new RegExp(
      [
        // US SSN: 123-45-6789, 123 45 6789, 123456789.
        String.raw`(?<![\w.])\d{3}([- ]?)\d{2}\1\d{4}(?![\w])`,
        // Singapore NRIC/FIN: S1234567D.
        String.raw`\b[STFGM]\d{7}[A-Z]\b`,
        // UK National Insurance number: AB123456C, AB 12 34 56 C.
        String.raw`\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b`,
      ].join('|'),
      'i',
    ),
  },
];

/**
 * Scans outgoing text for identifier patterns: the text as sent, then its pattern view (see
 * `patternView`), so that look-alike characters cannot carry an identifier past the patterns.
 */
export function scanPatterns(text: string): DlpHit | undefined {
  const raw = matchPatterns(text);
  if (raw) return raw;
  const view = patternView(text);
  return view === text ? undefined : matchPatterns(view);
}

function matchPatterns(text: string): DlpHit | undefined {
  for (const p of PATTERNS) if (p.re.test(text)) return { detector: p.detector };
  return undefined;
}

/**
 * The text as the patterns read it after normalising what renders alike (Unicode NFKC: fullwidth
 * `＠` and digits), dropping format characters (\p{Cf}: zero-width space, joiners, bidi
 * controls), mapping every decimal digit (\p{Nd}: Arabic-Indic, Devanagari …) to its ASCII digit
 * and every dash (\p{Pd}: en dash, em dash …) to `-`.
 */
export function patternView(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\p{Nd}/gu, asciiDigit)
    .replace(/\p{Pd}/gu, '-');
}

const DIGIT = /\p{Nd}/u;
const digitValues = new Map<string, string>();

/**
 * The ASCII digit of a Unicode decimal digit. Unicode encodes every set of decimal digits as a
 * contiguous run 0..9 (Unicode Standard §4.6, "Numeric Value"), and adjacent sets (the
 * mathematical digits) are whole runs, so the value is the count of digits before it in its
 * contiguous run of \p{Nd} code points, modulo 10.
 */
function asciiDigit(d: string): string {
  if (d.length === 1 && d >= '0' && d <= '9') return d;
  let value = digitValues.get(d);
  if (value === undefined) {
    const cp = d.codePointAt(0) ?? 0;
    let before = 0;
    while (DIGIT.test(String.fromCodePoint(cp - before - 1))) before++;
    value = String(before % 10);
    digitValues.set(d, value);
  }
  return value;
}

/**
 * A value the flow withholds, as the data-loss check looks for it: normalised (Unicode NFKC,
 * case-folded, everything but letters and digits removed, so `+1 (555) 123-4567`, `15551234567`
 * and `1,555,123,4567` are one value). `column` is a cell it may appear in (its own generalised
 * cell: a bucket's bounds may be the value itself).
 */
export interface Withheld {
  readonly norm: string;
  readonly column?: string | undefined;
}

/** Withheld values shorter than this (normalised) are not looked for: `1`, `US`, `yes`. */
export const MIN_WITHHELD_LENGTH = 4;
/**
 * Withheld values shorter than this (normalised) must fill a cell, or two adjacent cells, exactly;
 * longer ones are looked for anywhere in the row. Short words are not looked for inside longer
 * text: a withheld `male` does not stop a row that says `female`.
 */
export const MIN_SUBSTRING_LENGTH = 6;

/** The normal form the withheld-value check compares. */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** A withheld value, if it is long enough to look for. */
export function withheld(value: string, column?: string): Withheld | undefined {
  const norm = normalise(value);
  return norm.length >= MIN_WITHHELD_LENGTH ? { norm, column } : undefined;
}

type Cell = readonly [column: string, value: string | number | boolean | null | undefined];

/**
 * True when any withheld value appears in a row's outgoing cells (in output order): a short one as
 * a whole cell or two adjacent cells joined, a longer one anywhere in a cell or across adjacent
 * cells. Values are compared before encoding, so JSON or CSV escaping cannot hide a match.
 */
export function leaksWithheld(cells: readonly Cell[], forbidden: readonly Withheld[]): boolean {
  if (forbidden.length === 0) return false;
  const norms = cells.map(([, v]) =>
    v === null || v === undefined || typeof v === 'boolean' ? '' : normalise(String(v)),
  );
  const joined = new Map<string | undefined, string>();
  // \u0001 never survives normalisation, so a match never spans the cell it stands for.
  const rowWithout = (column: string | undefined): string => {
    let r = joined.get(column);
    if (r === undefined) {
      r = norms.map((n, i) => (cells[i]?.[0] === column ? '\u0001' : n)).join('');
      joined.set(column, r);
    }
    return r;
  };
  for (const f of forbidden) {
    if (f.norm.length >= MIN_SUBSTRING_LENGTH) {
      if (rowWithout(f.column).includes(f.norm)) return true;
      continue;
    }
    for (let i = 0; i < norms.length; i++) {
      if (cells[i]?.[0] === f.column) continue;
      const here = norms[i] ?? '';
      if (here === f.norm) return true;
      const next = i + 1 < norms.length && cells[i + 1]?.[0] !== f.column ? (norms[i + 1] ?? '') : undefined;
      if (next !== undefined && here !== '' && next !== '' && here + next === f.norm) return true;
    }
  }
  return false;
}
