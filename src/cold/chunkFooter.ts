/**
 * The key/value footer every cold file carries (`tierdb.*`): what the archiver
 * writes (`footerMetadata`) from a chunk's summary (`summarizeChunk`), and what
 * `tierdb rebuild-manifest` reads back (`parseFooter`). The footer alone is
 * enough to list a file in the manifest again; the file's bytes prove it.
 */
import { compareKeys } from '../archive/chunkKeys.js';
import type { TimeUnit } from '../registry/defineRegistry.js';
import { valueToMs } from '../registry/timeUnit.js';
import type { ColdType } from './columnTypes.js';
import { keyChecksum } from './ParquetChunkWriter.js';

/** What a chunk's rows amount to: their keys in file order and the ranges the manifest records. */
export interface ChunkSummary {
  readonly rows: number;
  readonly keys: unknown[];
  /** `keyChecksum` over the keys in order. */
  readonly checksum: string;
  readonly minKey: unknown;
  readonly maxKey: unknown;
  /** Unix ms, whatever the column's unit; NaN when a time is not a value of the unit. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

/** One column of a cold file, as `tierdb.schema` lists it. */
export interface ColdColumn {
  readonly name: string;
  readonly type: ColdType;
}

/** A file's footer, parsed. */
export interface ColdFooter {
  readonly table: string;
  readonly partition: string;
  readonly rows: number;
  readonly keyColumn: string;
  /** As text (64-bit integers with every digit). */
  readonly minKey: string;
  readonly maxKey: string;
  readonly timeColumn: string;
  readonly timeUnit: TimeUnit;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly keyChecksum: string;
  /** `tierdb.schema` as written (the manifest's `schema_json`). */
  readonly schemaJson: string;
  readonly schema: readonly ColdColumn[];
}

const FOOTER_KEYS = [
  'tierdb.table',
  'tierdb.partition',
  'tierdb.rows',
  'tierdb.key_column',
  'tierdb.min_key',
  'tierdb.max_key',
  'tierdb.time_column',
  'tierdb.time_unit',
  'tierdb.min_time_ms',
  'tierdb.max_time_ms',
  'tierdb.key_checksum',
  'tierdb.schema',
] as const;

const TIME_UNITS: readonly string[] = ['unix_s', 'unix_ms', 'iso'];
const COLD_TYPES: readonly string[] = ['BIGINT', 'DOUBLE', 'VARCHAR', 'BLOB'];

/** A chunk's summary built a row at a time, in file order (the archiver summarizes rows as it reads them). */
export class ChunkSummarizer {
  readonly #unit: TimeUnit;
  readonly #keys: unknown[] = [];
  #minKey: unknown;
  #maxKey: unknown;
  #minTimeMs = Infinity;
  #maxTimeMs = -Infinity;

  constructor(unit: TimeUnit) {
    this.#unit = unit;
  }

  get rows(): number {
    return this.#keys.length;
  }

  add(key: unknown, time: unknown): void {
    if (this.#keys.length === 0) {
      this.#minKey = key;
      this.#maxKey = key;
    } else {
      if (compareKeys(key, this.#minKey) < 0) this.#minKey = key;
      if (compareKeys(key, this.#maxKey) > 0) this.#maxKey = key;
    }
    this.#keys.push(key);
    const ms = valueToMs(time, this.#unit);
    if (Number.isNaN(ms)) {
      this.#minTimeMs = NaN;
      this.#maxTimeMs = NaN;
    }
    if (ms < this.#minTimeMs) this.#minTimeMs = ms;
    if (ms > this.#maxTimeMs) this.#maxTimeMs = ms;
  }

  finish(): ChunkSummary {
    const keys = this.#keys;
    return { rows: keys.length, keys, checksum: keyChecksum(keys), minKey: this.#minKey, maxKey: this.#maxKey, minTimeMs: this.#minTimeMs, maxTimeMs: this.#maxTimeMs };
  }
}

/** Keys, checksum and ranges of rows given in file order (`keyIndex`, `timeIndex`: the columns' positions). */
export function summarizeChunk(rows: readonly (readonly unknown[])[], keyIndex: number, timeIndex: number, unit: TimeUnit): ChunkSummary {
  const summarizer = new ChunkSummarizer(unit);
  for (const row of rows) summarizer.add(row[keyIndex], row[timeIndex]);
  return summarizer.finish();
}

/** The footer of a file holding `summary`'s rows of `table`. */
export function footerMetadata(o: {
  table: string;
  partition: string;
  keyColumn: string;
  timeColumn: string;
  timeUnit: TimeUnit;
  summary: ChunkSummary;
  schema: readonly ColdColumn[];
}): Record<(typeof FOOTER_KEYS)[number], string> {
  const s = o.summary;
  return {
    'tierdb.table': o.table,
    'tierdb.partition': o.partition,
    'tierdb.rows': String(s.rows),
    'tierdb.key_column': o.keyColumn,
    'tierdb.min_key': String(s.minKey),
    'tierdb.max_key': String(s.maxKey),
    'tierdb.time_column': o.timeColumn,
    'tierdb.time_unit': o.timeUnit,
    'tierdb.min_time_ms': String(s.minTimeMs),
    'tierdb.max_time_ms': String(s.maxTimeMs),
    'tierdb.key_checksum': s.checksum,
    'tierdb.schema': JSON.stringify(o.schema),
  };
}

/**
 * A file's key/value metadata as a footer: `foreign` when it carries no
 * `tierdb.table` (not a tierdb file), `problem` naming what is missing or malformed.
 */
export function parseFooter(meta: Readonly<Record<string, string>>): { footer: ColdFooter } | { foreign: true } | { problem: string } {
  if (meta['tierdb.table'] === undefined) return { foreign: true };
  const missing = FOOTER_KEYS.filter((k) => meta[k] === undefined);
  if (missing.length > 0) return { problem: `its footer lacks ${missing.join(', ')}` };
  const get = (k: (typeof FOOTER_KEYS)[number]): string => meta[k]!;
  const rows = Number(get('tierdb.rows'));
  const minTimeMs = Number(get('tierdb.min_time_ms'));
  const maxTimeMs = Number(get('tierdb.max_time_ms'));
  if (!Number.isSafeInteger(rows) || rows < 0) return { problem: `its footer says tierdb.rows ${JSON.stringify(get('tierdb.rows'))}` };
  if (!Number.isFinite(minTimeMs) || !Number.isFinite(maxTimeMs)) return { problem: 'its footer has no valid time range' };
  const timeUnit = get('tierdb.time_unit');
  if (!TIME_UNITS.includes(timeUnit)) return { problem: `its footer names time unit ${JSON.stringify(timeUnit)}` };
  let schema: ColdColumn[];
  try {
    const parsed = JSON.parse(get('tierdb.schema')) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((c) => typeof c?.name === 'string' && COLD_TYPES.includes(c?.type))) throw new Error('not a column list');
    schema = parsed as ColdColumn[];
  } catch (error) {
    return { problem: `its footer's tierdb.schema is unreadable (${(error as Error).message})` };
  }
  return {
    footer: {
      table: get('tierdb.table'),
      partition: get('tierdb.partition'),
      rows,
      keyColumn: get('tierdb.key_column'),
      minKey: get('tierdb.min_key'),
      maxKey: get('tierdb.max_key'),
      timeColumn: get('tierdb.time_column'),
      timeUnit: timeUnit as TimeUnit,
      minTimeMs,
      maxTimeMs,
      keyChecksum: get('tierdb.key_checksum'),
      schemaJson: get('tierdb.schema'),
      schema,
    },
  };
}
