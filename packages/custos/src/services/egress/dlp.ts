/** What the data-loss check found (never the value itself: that would leak it into logs). */
export interface DlpHit {
  readonly detector: 'protected-value' | 'email' | 'phone' | 'government-id';
}

/**
 * Identifier patterns looked for in every outgoing payload. Pseudonyms (`p:` + base64url) and
 * generalised values (`1990`, `2026-04`, `100..200`, `US`) match none of them.
 */
const PATTERNS: readonly { readonly detector: DlpHit['detector']; readonly re: RegExp }[] = [
  { detector: 'email', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/ },
  // International (+CC …), North American (NNN) NNN-NNNN and NNN-NNN-NNNN forms.
  {
    detector: 'phone',
    re: /\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,5}){2,4}|\(\d{3}\) ?\d{3}[-. ]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}\b/,
  },
  // US SSN, Singapore NRIC/FIN, UK National Insurance number.
  {
    detector: 'government-id',
    re: /\b\d{3}-\d{2}-\d{4}\b|\b[STFGM]\d{7}[A-Z]\b|\b[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]\b/,
  },
];

/** Scans outgoing text for identifier patterns. */
export function scanPatterns(text: string): DlpHit | undefined {
  for (const p of PATTERNS) if (p.re.test(text)) return { detector: p.detector };
  return undefined;
}

/**
 * True when any value the flow does not let out appears in the record's outgoing values. The
 * values are checked before serialisation, so JSON or CSV escaping cannot hide a match.
 */
export function leaksForbidden(
  values: Readonly<Record<string, string | number | boolean | null>>,
  forbidden: readonly string[],
): boolean {
  if (forbidden.length === 0) return false;
  let text = '';
  for (const v of Object.values(values)) if (v !== null) text += `${String(v)}\u0000`;
  for (const f of forbidden) if (text.includes(f)) return true;
  return false;
}
