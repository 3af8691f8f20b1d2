/**
 * Writes bridge rows as text: an aligned table, JSON, NDJSON/JSONL or CSV.
 * Used by `tierdb query`, `sql`, `export` and `demo`.
 *
 * Encodings (the same in every format):
 * - INTEGER (bigint): its exact decimal digits. In JSON a bigint is a JSON
 *   number written with every digit (`9223372036854775807`), never rounded;
 *   readers that parse numbers as doubles (JS `JSON.parse`) round beyond 2^53,
 *   readers with 64-bit integers (DuckDB `read_json`, jq 1.7, Python) keep it.
 * - REAL (number): the shortest text that reads back as the same double;
 *   ±Infinity and NaN, which JSON cannot hold, as the strings "Infinity", "-Infinity", "NaN".
 * - TEXT: as is (JSON-escaped in JSON, RFC 4180-quoted in CSV).
 * - BLOB (Buffer): lowercase hex, without prefix (a JSON string in JSON).
 * - NULL: JSON `null`; in CSV an empty unquoted field (an empty string is `""`);
 *   `NULL` in the table format.
 * - Other types `bridge.sql` can return: booleans as true/false, dates and
 *   timestamps as ISO-8601 UTC, lists and structs as JSON.
 * CSV follows RFC 4180: a header line, CRLF line ends, a field quoted when it
 * holds a comma, a double quote, CR or LF (quotes doubled inside).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ArgumentError } from '../errors.js';
import type { Row } from './QueryOptions.js';

export const ROW_FORMATS = ['table', 'json', 'ndjson', 'jsonl', 'csv'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export function parseRowFormat(value: string, allowed: readonly string[] = ROW_FORMATS): RowFormat {
  if (!allowed.includes(value)) throw new ArgumentError(`--format ${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
  return value as RowFormat;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

/** JSON text of a value: bigints as exact digits, Buffers as hex, Dates as ISO; `indent` pretty-prints. */
export function toJson(value: unknown, indent = 0, depth = 0): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (isBytes(value)) return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}"`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : JSON.stringify(value.toISOString());
  const pad = indent > 0 ? `\n${' '.repeat(indent * (depth + 1))}` : '';
  const end = indent > 0 ? `\n${' '.repeat(indent * depth)}` : '';
  const sep = indent > 0 ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${value.map((v) => `${pad}${toJson(v, indent, depth + 1)}`).join(',')}${end}]`;
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toJson(withToJson.toJSON(), indent, depth);
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return '{}';
  return `{${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}${sep}${toJson(v, indent, depth + 1)}`).join(',')}${end}}`;
}

/** A value as plain text (CSV and table cells); null for NULL. */
export function textValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isBytes(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return toJson(value);
}

/** One RFC 4180 field. */
export function csvField(value: unknown): string {
  const text = textValue(value);
  if (text === null) return '';
  if (text === '' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Terminal columns a string takes: East Asian wide characters and emoji take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

const MAX_CELL = 60;

function tableCell(value: unknown): string {
  const text = textValue(value);
  if (text === null) return 'NULL';
  const flat = text.replace(/\r\n|\r|\n/g, '\\n').replace(/\t/g, ' ');
  if (displayWidth(flat) <= MAX_CELL) return flat;
  let out = '';
  let width = 0;
  for (const ch of flat) {
    const w = displayWidth(ch);
    if (width + w > MAX_CELL - 1) break;
    out += ch;
    width += w;
  }
  return `${out}…`;
}

/**
 * Rows as an aligned text table (cells cut at 60 columns, numbers right-aligned), then a row count
 * (`more`: the rows are the first of a larger result, and the count says so).
 */
export function formatRowsTable(rows: readonly Row[], columns: readonly string[] = rows[0] ? Object.keys(rows[0]) : [], more = false): string {
  const count = more ? `(first ${rows.length} ${rows.length === 1 ? 'row' : 'rows'}; more not shown)` : `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  if (columns.length === 0) return count;
  const cells = rows.map((r) => columns.map((c) => tableCell(r[c])));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'bigint' || typeof r[c] === 'number'));
  const widths = columns.map((c, i) => Math.max(displayWidth(c), ...cells.map((r) => displayWidth(r[i]!))));
  const fit = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i]! - displayWidth(text));
    return numeric[i] ? gap + text : text + gap;
  };
  const line = (texts: readonly string[]) => texts.map(fit).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), count].join('\n');
}

/**
 * Writes rows in one format to a stream as they come, honouring backpressure.
 * `table` collects the rows and writes them at `end` (it needs every width).
 */
export class RowWriter {
  readonly #out: Writable;
  readonly #format: RowFormat;
  #columns: readonly string[] | undefined;
  #buffer = '';
  #rows = 0;
  readonly #collected: Row[] = [];

  /** `columns`: the header and field order; default the first row's keys. */
  constructor(out: Writable, format: RowFormat, columns?: readonly string[]) {
    this.#out = out;
    this.#format = format;
    this.#columns = columns;
  }

  get rows(): number {
    return this.#rows;
  }

  async write(row: Row): Promise<void> {
    if (this.#rows === 0) this.#start(row);
    this.#rows++;
    switch (this.#format) {
      case 'table':
        this.#collected.push(row);
        return;
      case 'json':
        this.#buffer += `${this.#rows === 1 ? '\n' : ',\n'}${this.#object(row)}`;
        break;
      case 'ndjson':
      case 'jsonl':
        this.#buffer += `${this.#object(row)}\n`;
        break;
      case 'csv':
        this.#buffer += csvLine(this.#columns!.map((c) => row[c]));
        break;
    }
    if (this.#buffer.length >= 64 * 1024) await this.#flush();
  }

  /**
   * Finishes the output (the header of an empty CSV, the closing bracket of JSON, the table).
   * `more`: the caller stopped before the end of the result (the table's count line says so).
   */
  async end(more = false): Promise<void> {
    if (this.#rows === 0) this.#start(undefined);
    if (this.#format === 'json') this.#buffer += this.#rows === 0 ? ']\n' : '\n]\n';
    if (this.#format === 'table') this.#buffer += `${formatRowsTable(this.#collected, this.#columns, more)}\n`;
    await this.#flush();
  }

  #start(first: Row | undefined): void {
    this.#columns ??= first ? Object.keys(first) : [];
    if (this.#format === 'json') this.#buffer += '[';
    if (this.#format === 'csv' && this.#columns.length > 0) this.#buffer += csvLine(this.#columns);
  }

  #object(row: Row): string {
    return `{${this.#columns!.map((c) => `${JSON.stringify(c)}:${toJson(row[c])}`).join(',')}}`;
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    if (!this.#out.write(text)) await once(this.#out, 'drain');
  }
}
