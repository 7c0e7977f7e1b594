import type { OutValue } from './flow-transform.js';

/** Output formats of an export. */
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
/** An output format. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** How an export ended, as its trailer says and its ledger entry records. */
export interface ExportSummary {
  readonly status: 'complete' | 'stopped';
  /** Why it stopped (`EGRESS_LIMIT_EXCEEDED`, `EGRESS_DLP_BLOCKED`, …). */
  readonly code?: string | undefined;
  readonly flow: string;
  /** Data rows sent (records, or groups for an aggregating flow). */
  readonly rows: number;
  /** Source records read into the rows sent. */
  readonly records: number;
  /** Distinct subjects behind the rows sent. */
  readonly subjects: number;
  readonly suppressedGroups: number;
  readonly suppressedRecords: number;
  /** `sha256:<hex>` of every byte before the trailer. */
  readonly digest: string;
  /** Ledger index of the entry recording the whole export (absent when even that failed). */
  readonly ledgerIndex?: number | undefined;
}

/** The MIME type of a format. */
export function contentTypeOf(format: ExportFormat): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}

function csvCell(v: OutValue | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // RFC 4180 quoting; a leading =, +, - or @ is quoted too, so spreadsheets do not run it.
  return /[",\r\n]|^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Encodes rows a batch at a time; the header (CSV) is part of the first batch. */
export class RowEncoder {
  private headerSent = false;

  constructor(
    private readonly format: ExportFormat,
    private readonly columns: readonly string[],
  ) {}

  /** True once anything has been encoded. */
  get started(): boolean {
    return this.headerSent;
  }

  /** Encodes rows (and, the first time, the CSV header). */
  encode(rows: readonly Readonly<Record<string, OutValue>>[]): string {
    let out = '';
    if (!this.headerSent) {
      this.headerSent = true;
      if (this.format === 'csv') out += `${this.columns.map(csvCell).join(',')}\n`;
    }
    for (const row of rows) {
      if (this.format === 'ndjson') out += `${JSON.stringify(row)}\n`;
      else out += `${this.columns.map((c) => csvCell(row[c])).join(',')}\n`;
    }
    return out;
  }
}

/**
 * The last line of every export: NDJSON `{"@custos":"export-end",…}`, CSV `# custos export-end …`.
 * A reader that does not find it knows the export was cut short.
 */
export function trailerOf(format: ExportFormat, s: ExportSummary): string {
  if (format === 'ndjson') return `${JSON.stringify({ '@custos': 'export-end', ...s })}\n`;
  const parts = Object.entries(s)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `# custos export-end ${parts.join(' ')}\n`;
}
