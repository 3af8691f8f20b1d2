/**
 * Where cold files live: `<cold>/<table>/year=YYYY/month=MM[/day=DD]/part-<id>.parquet`
 * (Hive-style), temp files in `<cold>/_tmp/`, all paths in the manifest relative to `<cold>`.
 *
 * A file id is `<runId>-<seq>-<runToken>`: the run's random token makes a
 * leftover provably this store's own (see recovery.ts), even after a restored
 * backup hands the same run id out again.
 */
import path from 'node:path';
import type { Partition } from '../registry/defineRegistry.js';
import { DAY_MS } from '../registry/timeUnit.js';

/** The local tree's staging folder (temp files, DuckDB spill), skipped by listing. */
export const TMP_DIR = '_tmp';
/** A table's Iceberg metadata folder (`<table>/_iceberg/`, src/iceberg/): not cold files; `ColdStore.list` skips it. */
export const ICEBERG_DIR = '_iceberg';

export interface PartitionSpan {
  /** `YYYY-MM-DD` or `YYYY-MM`. */
  readonly key: string;
  /** Hive folder relative to the table folder. */
  readonly dir: string;
  /** Inclusive start and exclusive end, unix ms, UTC. */
  readonly startMs: number;
  readonly endMs: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The partition (UTC day or month) holding the instant `ms`. */
export function partitionOf(ms: number, partition: Partition): PartitionSpan {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (partition === 'month') {
    const startMs = Date.UTC(y, m, 1);
    return { key: `${y}-${pad(m + 1)}`, dir: `year=${y}/month=${pad(m + 1)}`, startMs, endMs: Date.UTC(y, m + 1, 1) };
  }
  const day = d.getUTCDate();
  const startMs = Date.UTC(y, m, day);
  return { key: `${y}-${pad(m + 1)}-${pad(day)}`, dir: `year=${y}/month=${pad(m + 1)}/day=${pad(day)}`, startMs, endMs: startMs + DAY_MS };
}

/** Manifest path of a cold file, relative to the cold folder, `/`-separated. */
export function coldFilePath(table: string, span: PartitionSpan, id: string): string {
  return `${table}/${span.dir}/part-${id}.parquet`;
}

/** The id of a run's `seq`-th file. */
export function fileId(runId: number, seq: number, runToken: string): string {
  return `${runId}-${seq}-${runToken}`;
}

const ID_AT_END = /-(\d+)-(\d+)-([0-9a-f]{8,32})\.parquet(\.tmp)?$/;

/** The run id and token a cold or temp file name carries; undefined for other names (older files too). */
export function parseFileId(name: string): { runId: number; seq: number; runToken: string } | undefined {
  const m = ID_AT_END.exec(name);
  if (!m) return undefined;
  return { runId: Number(m[1]), seq: Number(m[2]), runToken: m[3]! };
}

/**
 * The Hive folder (relative to the table folder) of a footer's partition key —
 * the inverse of `partitionOf(…).key` and `hiveFolderOf(…).key`:
 * `2026-01-02` → `year=2026/month=01/day=02`, `2026-01` → `year=2026/month=01`,
 * `2026` → `year=2026`, `all` → `` (the table folder); undefined for anything else.
 */
export function partitionDir(key: string): string | undefined {
  if (key === 'all') return '';
  const m = /^(\d{4})(?:-(\d\d)(?:-(\d\d))?)?$/.exec(key);
  if (!m) return undefined;
  return [`year=${m[1]}`, ...(m[2] === undefined ? [] : [`month=${m[2]}`]), ...(m[3] === undefined ? [] : [`day=${m[3]}`])].join('/');
}

/** A run's own DuckDB spill folder in the cold store's staging folder. */
export function runSpillDir(stagingDir: string, runToken: string): string {
  return path.join(stagingDir, `duckdb-${runToken}`);
}

export function absoluteColdPath(coldDir: string, relative: string): string {
  return path.join(coldDir, ...relative.split('/'));
}

/** A chunk's temp file in the cold store's staging folder. */
export function tmpFilePath(stagingDir: string, table: string, id: string): string {
  return path.join(stagingDir, `${table}-${id}.parquet.tmp`);
}

/**
 * The deepest Hive folder holding every instant of [minMs, maxMs] (UTC): a day
 * (day-partitioned tables only), a month, a year, or the table folder itself.
 * Rewritten and merged files live there, so the tree stays Hive-readable and
 * prunable by its folders; the manifest's time range prunes exactly.
 */
export function hiveFolderOf(minMs: number, maxMs: number, partition: Partition): { key: string; dir: string } {
  const a = new Date(minMs);
  const b = new Date(maxMs);
  const y = a.getUTCFullYear();
  if (y !== b.getUTCFullYear()) return { key: 'all', dir: '' };
  const m = a.getUTCMonth();
  if (m !== b.getUTCMonth()) return { key: String(y), dir: `year=${y}` };
  const day = a.getUTCDate();
  if (partition === 'month' || day !== b.getUTCDate()) return { key: `${y}-${pad(m + 1)}`, dir: `year=${y}/month=${pad(m + 1)}` };
  return { key: `${y}-${pad(m + 1)}-${pad(day)}`, dir: `year=${y}/month=${pad(m + 1)}/day=${pad(day)}` };
}

/** Manifest path of a rewritten or merged file in `dir` (from hiveFolderOf). */
export function folderFilePath(table: string, dir: string, id: string): string {
  return dir === '' ? `${table}/part-${id}.parquet` : `${table}/${dir}/part-${id}.parquet`;
}
