import { CustosError } from '../../domain/errors.js';

/**
 * Limits every Cedar text must meet before the Cedar wasm build sees it. Cedar parses, validates
 * and evaluates recursively on a fixed 1 MiB wasm stack; past it the instance traps ("memory access
 * out of bounds", or a V8 RangeError) and its memory is left corrupt. Measured on cedar-wasm 4.13:
 * evaluation traps at about 105 chained binary operators (`&&`, `+`, `.`, `if`) or 78 nested
 * `x && (…)`, validation at 79 nested sets or records, parsing at 130 nested parentheses. The
 * limits below sit far above hand-written policies and well inside what Cedar survives
 * (docs/gatekeeping.md, "Limits on policy text").
 */
export const POLICY_LIMITS = Object.freeze({
  /** UTF-8 bytes of one policy file (the HTTP body schema allows the same per file). */
  maxFileBytes: 262_144,
  /** UTF-8 bytes of a whole policy set, every file together. */
  maxSetBytes: 1_048_576,
  /** Brackets `(`, `[`, `{` open at once (the `permit (…)` head and `when {…}` body count as one each). */
  maxNesting: 32,
  /** Consecutive unary `!` or `-` (Cedar itself refuses more than 4). */
  maxUnaryRun: 4,
  /**
   * Open brackets plus the operators (`&&`, `||`, comparisons, `+ - *`, `.`, `!`, `if`, `in`, `has`,
   * `like`, `is`) in each enclosing bracket group since its last `,` or `;`: a bound on how deep
   * Cedar's expression tree can get.
   */
  maxExpressionDepth: 64,
});

const OPERATOR_WORDS = new Set(['if', 'in', 'has', 'like', 'is']);
const TWO_CHAR_OPERATORS = new Set(['&&', '||', '==', '!=', '<=', '>=']);
const ONE_CHAR_OPERATORS = new Set(['<', '>', '+', '*', '.', '!', '-']);

function tooComplex(file: string, what: string, line: number): CustosError {
  // Never the policy text itself: it may be megabytes of brackets.
  return new CustosError('POLICY_INVALID', `${file}: line ${line}: ${what}`);
}

/** Index just past a string literal that opens at `start` (Cedar strings: `"`, `\` escapes). */
function skipString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index of the end of the line comment that opens at `start`: Cedar ends it at `\n` or `\r`. */
function skipComment(text: string, start: number): number {
  let i = start;
  while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  return i;
}

/** Length of the operator at `i` (0 if none). */
function operatorAt(text: string, i: number): number {
  if (TWO_CHAR_OPERATORS.has(text.slice(i, i + 2))) return 2;
  if (ONE_CHAR_OPERATORS.has(text[i] as string)) return 1;
  return 0;
}

/** Index just past the identifier that starts at `start`, or `start` if none does. */
function skipIdentifier(text: string, start: number): number {
  if (!/[A-Za-z_]/.test(text[start] ?? '')) return start;
  let i = start + 1;
  while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
  return i;
}

/**
 * Refuses a policy file that is too large or nests too deep for Cedar (POLICY_INVALID, naming the
 * file, the line and the limit, never the text). One linear pass over the text, skipping string
 * literals and `//` comments; it counts no tokens Cedar would not also see, so an unbalanced or
 * otherwise malformed text passes here and is refused by Cedar's parser.
 */
export function checkPolicyBounds(file: string, text: string): void {
  if (Buffer.byteLength(text, 'utf8') > POLICY_LIMITS.maxFileBytes)
    throw new CustosError(
      'POLICY_INVALID',
      `${file}: policy file is larger than ${POLICY_LIMITS.maxFileBytes} bytes`,
    );
  // operators[k]: operators seen in the k-th open group (0 = outside any bracket) since its last separator.
  const operators: number[] = [0];
  let expressionDepth = 0;
  let unaryRun = 0;
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      const end = Math.min(skipString(text, i), text.length);
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end;
      unaryRun = 0;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      i = skipComment(text, i);
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (ch === '\n') line++;
      i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') {
      operators.push(0);
      if (operators.length - 1 > POLICY_LIMITS.maxNesting)
        throw tooComplex(file, `brackets nest deeper than ${POLICY_LIMITS.maxNesting} levels`, line);
      expressionDepth++;
      unaryRun = 0;
      i++;
      continue;
    }
    if (ch === ')' || ch === ']' || ch === '}') {
      if (operators.length > 1) expressionDepth -= 1 + (operators.pop() as number);
      unaryRun = 0;
      i++;
      continue;
    }
    if (ch === ',' || ch === ';') {
      expressionDepth -= operators[operators.length - 1] as number;
      operators[operators.length - 1] = 0;
      unaryRun = 0;
      i++;
      continue;
    }
    const wordEnd = skipIdentifier(text, i);
    if (wordEnd > i && !OPERATOR_WORDS.has(text.slice(i, wordEnd))) {
      // Keywords only as whole words: `inner` is an identifier, not `in`.
      unaryRun = 0;
      i = wordEnd;
      continue;
    }
    const length = wordEnd > i ? wordEnd - i : operatorAt(text, i);
    if (length === 0) {
      unaryRun = 0;
      i++;
      continue;
    }
    unaryRun = length === 1 && (ch === '!' || ch === '-') ? unaryRun + 1 : 0;
    if (unaryRun > POLICY_LIMITS.maxUnaryRun)
      throw tooComplex(file, `more than ${POLICY_LIMITS.maxUnaryRun} unary operators in a row`, line);
    operators[operators.length - 1] = (operators[operators.length - 1] as number) + 1;
    expressionDepth++;
    if (expressionDepth > POLICY_LIMITS.maxExpressionDepth)
      throw tooComplex(
        file,
        `expression nests deeper than ${POLICY_LIMITS.maxExpressionDepth} operators and brackets`,
        line,
      );
    i += length;
  }
}

/** Refuses a policy set whose texts together exceed `POLICY_LIMITS.maxSetBytes` (POLICY_INVALID). */
export function checkPolicySetSize(texts: readonly { readonly text: string }[]): void {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t.text, 'utf8');
  if (bytes > POLICY_LIMITS.maxSetBytes)
    throw new CustosError(
      'POLICY_INVALID',
      `the policy set is larger than ${POLICY_LIMITS.maxSetBytes} bytes`,
    );
}
