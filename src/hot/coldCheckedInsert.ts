/**
 * The transaction shape every append shares, so a key is never hot and cold at
 * once: keys inside a cold file's key range (manifest only) are looked up in
 * those files first; then one IMMEDIATE transaction re-checks the manifest (no
 * archiver commit can slip in between), and, when it names a file not yet read,
 * rolls back, reads it and tries again. The insert itself is the caller's.
 */
import type Database from 'better-sqlite3';
import type { ColdKeyIndex } from '../cold/ColdKeyIndex.js';
import { coldKeyCandidates, type ColdKey } from '../cold/coldKeyCandidates.js';
import { TierError } from '../errors.js';

/** Thrown inside the transaction when the manifest names a file not yet read: roll back, read it, retry. */
class ColdFilesChanged extends Error {
  constructor(readonly candidates: Map<string, ColdKey[]>) {
    super('cold files changed');
  }
}

/** SQLite's disk-full error, named with the file; other errors unchanged. */
function toDiskFullError(error: unknown, raw: Database.Database, rowCount: number): unknown {
  if ((error as { code?: unknown }).code !== 'SQLITE_FULL') return error;
  return new TierError(
    'TIERDB_DISK_FULL',
    `the disk holding the hot database ${raw.name} is full: none of the ${rowCount} rows of this call were stored. Free space and append them again`,
    { cause: error },
  );
}

export interface ColdCheckedInsert<T> {
  raw: Database.Database;
  table: string;
  /** The registry's key column: the manifest's key ranges are over it. */
  keyColumn: string;
  /** The keys of the rows to insert (rows without a key, left to SQLite, have none). */
  keys: readonly ColdKey[];
  /** Rows in the call (for the disk-full message). */
  rowCount: number;
  /** Runs inside the transaction; `coldFound` holds coldKeyId of every key already cold. Throwing rolls everything back. */
  body: (coldFound: ReadonlySet<string>) => T;
}

type FoundKeys = ReadonlyMap<string, { key: ColdKey; paths: ReadonlyMap<string, number> }>;

/**
 * Inside the transaction: the keys still cold — held by a live file, in its
 * drained part (a file the archiver is still draining holds rows that are
 * still hot after that part, or that the app deleted meanwhile), where no
 * delete marker hides them (a key deleted or updated away from its cold copy
 * may be appended again). A pending (grace) file's rows are all still hot.
 */
function stillCold(raw: Database.Database, found: FoundKeys): Set<string> {
  const cold = new Set<string>();
  if (found.size === 0) return cold;
  const marked = raw.prepare(`SELECT 1 FROM _tierdb_deletes WHERE path = ? AND key = ?`).pluck();
  const fileState = raw.prepare(`SELECT state, drained_rows FROM _tierdb_files WHERE path = ?`).safeIntegers(false);
  const coldRows = new Map<string, number>();
  /** How many leading rows of the file are cold: all of a live drained file, a prefix of a draining one, none of any other. */
  const coldRowsOf = (p: string): number => {
    let n = coldRows.get(p);
    if (n === undefined) {
      const f = fileState.get(p) as { state: string; drained_rows: number | null } | undefined;
      n = f?.state !== 'live' ? 0 : (f.drained_rows ?? Infinity);
      coldRows.set(p, n);
    }
    return n;
  };
  for (const [id, { key, paths }] of found) {
    for (const [p, row] of paths) {
      if (row < coldRowsOf(p) && marked.get(p, key) === undefined) {
        cold.add(id);
        break;
      }
    }
  }
  return cold;
}

function attempt<T>(job: ColdCheckedInsert<T>, candidatesOf: (keys: readonly ColdKey[]) => Map<string, ColdKey[]>, files: ReadonlySet<string>, found: FoundKeys): T {
  try {
    return job.raw
      .transaction(() => {
        const candidates = candidatesOf(job.keys);
        for (const file of candidates.keys()) if (!files.has(file)) throw new ColdFilesChanged(candidates);
        return job.body(stillCold(job.raw, found));
      })
      .immediate();
  } catch (error) {
    if (error instanceof ColdFilesChanged) throw error;
    throw toDiskFullError(error, job.raw, job.rowCount);
  }
}

/**
 * Without a ColdKeyIndex (a bare SQLite handle, which cannot read Parquet):
 * when some key falls inside a cold file's key range nothing is inserted and
 * a TierError says to append through the store.
 */
export function insertWithoutColdLookup<T>(job: ColdCheckedInsert<T>, appendThrough: string): T {
  try {
    return attempt(job, (keys) => coldKeyCandidates(job.raw, job.table, keys), new Set(), new Map());
  } catch (error) {
    if (!(error instanceof ColdFilesChanged)) throw error;
    const keys = [...new Set([...error.candidates.values()].flat())];
    throw new TierError(
      'TIERDB_COLD_CHECK_NEEDED',
      `${keys.length} ${job.keyColumn}(s) (first: ${String(keys[0])}) fall inside the key range of cold file(s) ${[...error.candidates.keys()].join(', ')}, ` +
        `which a bare SQLite handle cannot read to dedupe them; nothing was inserted. Append through an open store (${appendThrough})`,
    );
  }
}

/** Looks keys up in the cold files the manifest points at, then inserts (see the file comment). */
export async function insertWithColdLookup<T>(job: ColdCheckedInsert<T>, coldKeys: ColdKeyIndex): Promise<T> {
  const candidatesOf = (keys: readonly ColdKey[]) => coldKeys.candidates(job.raw, job.table, job.keyColumn, keys);
  const files = new Set<string>();
  const found = new Map<string, { key: ColdKey; paths: Map<string, number> }>();
  let toRead = candidatesOf(job.keys);
  for (;;) {
    if (toRead.size > 0) {
      for (const [id, hit] of await coldKeys.findKeys(job.keyColumn, toRead)) {
        const seen = found.get(id);
        if (seen) for (const [p, row] of hit.paths) seen.paths.set(p, row);
        else found.set(id, hit);
      }
      for (const file of toRead.keys()) files.add(file);
    }
    try {
      return attempt(job, candidatesOf, files, found);
    } catch (error) {
      if (!(error instanceof ColdFilesChanged)) throw error;
      toRead = new Map([...error.candidates].filter(([file]) => !files.has(file)));
    }
  }
}
