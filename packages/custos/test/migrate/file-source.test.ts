import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileMigrationSource } from '../../src/adapters/migration/file-source.js';
import { tempDir } from '../helpers.js';

describe('file sources read in chunks', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('pages a multi-megabyte NDJSON file across chunk boundaries, resuming from cursors, and rewrites it', async () => {
    const file = join(t.dir, 'big.ndjson');
    const lines = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({ id: `r${i}`, uid: `s${i % 7}`, pad: 'é'.repeat(i % 150) }),
    );
    // CRLF line ends, a blank line, and no newline after the last line.
    writeFileSync(file, `${lines.slice(0, 100).join('\r\n')}\r\n\n${lines.slice(100).join('\n')}`);
    const source = new FileMigrationSource('big', 'ndjson', undefined);
    const location = { table: undefined, file, keyField: 'id' };
    expect(await source.count(location)).toBe(30_000);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await source.read(location, cursor, 7_000);
      if (page.items.length === 0) break;
      cursor = page.cursor;
      for (const item of page.items) seen.push(String(item.row?.id));
    }
    expect(seen).toEqual(lines.map((_, i) => `r${i}`));
    const last = await source.read(location, undefined, 30_001);
    expect(last.items[100]?.at).toBe('line 102');
    const deleted = await source.delete(location, [], (row) => Number(String(row.id).slice(1)) % 2 === 0);
    expect(deleted).toBe(15_000);
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(kept.length).toBe(15_000);
    expect(kept.every((l) => Number((JSON.parse(l) as { id: string }).id.slice(1)) % 2 === 1)).toBe(true);
  });
});
