import type { PolicyText } from '../policy/policy-set.js';

/** How one policy differs between the active set and a proposal. */
export interface PolicyChange {
  readonly id: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** Line diff: `+ ` added, `- ` removed, `  ` unchanged lines. */
  readonly lines: readonly string[];
}

/** Line diff by longest common subsequence (policies are short). */
export function diffLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      out.push(`+ ${b[j]}`);
      j++;
    } else {
      out.push(`- ${a[i]}`);
      i++;
    }
  }
  return out;
}

/** Policy-by-policy differences between two sets, in policy id order. */
export function diffPolicies(active: readonly PolicyText[], proposed: readonly PolicyText[]): PolicyChange[] {
  const before = new Map(active.map((p) => [p.id, p.text]));
  const after = new Map(proposed.map((p) => [p.id, p.text]));
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: PolicyChange[] = [];
  for (const id of ids) {
    const a = before.get(id);
    const b = after.get(id);
    if (a === b) continue;
    if (a === undefined) changes.push({ id, change: 'added', lines: diffLines('', b ?? '').slice(1) });
    else if (b === undefined) changes.push({ id, change: 'removed', lines: diffLines(a, '').slice(0, -1) });
    else changes.push({ id, change: 'changed', lines: diffLines(a, b) });
  }
  return changes;
}
