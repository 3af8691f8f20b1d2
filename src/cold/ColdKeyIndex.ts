/**
 * Answers "which of these keys are already cold?" for the append path, so a key
 * is never hot and cold at once. The manifest's key ranges pick the candidate
 * files (coldKeyCandidates); only those files' key column is read, through a
 * DuckDB instance created on first need and closed with the store.
 */
import type Database from 'better-sqlite3';
import { ColdFileError, TierError } from '../errors.js';
import type { ColdStore } from './ColdStore.js';
import { coldKeyCandidates, coldKeyId, type ColdKey } from './coldKeyCandidates.js';
import { DuckDbEngine, sqlIdent, sqlString, readColdParquet } from './DuckDbEngine.js';
import { FILE_COLUMN } from './markedRows.js';

export interface ColdKeyIndexOptions {
  cold: ColdStore;
  memoryLimit: string;
  /** Each registered table's key column: the manifest's key ranges are over that column. */
  keyColumns: ReadonlyMap<string, string>;
}

export class ColdKeyIndex {
  readonly #options: ColdKeyIndexOptions;
  #engine: Promise<DuckDbEngine> | undefined;
  /** One DuckDB query at a time on the one connection. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: ColdKeyIndexOptions) {
    this.#options = options;
  }

  /** The candidate files for `keys` of `table.column` (manifest only; no file is read). */
  candidates(raw: Database.Database, table: string, column: string, keys: readonly ColdKey[]): Map<string, ColdKey[]> {
    return coldKeyCandidates(raw, table, keys, this.#options.keyColumns.get(table) === column);
  }

  /**
   * The keys the given files hold in `column`: coldKeyId → the key and the
   * manifest paths holding it, each with the key's row position in that file
   * (a delete marker may hide it there, or the file may still be draining and
   * the row not yet cold; the caller judges both inside its transaction).
   */
  async findKeys(column: string, candidates: ReadonlyMap<string, readonly ColdKey[]>): Promise<Map<string, { key: ColdKey; paths: Map<string, number> }>> {
    const found = new Map<string, { key: ColdKey; paths: Map<string, number> }>();
    if (candidates.size === 0) return found;
    const paths = [...candidates.keys()];
    const wanted = new Map<string, ColdKey>();
    for (const keys of candidates.values()) for (const k of keys) wanted.set(coldKeyId(k), k);
    const literals = [...wanted.values()].map((k) => (typeof k === 'bigint' ? `${k}::BIGINT` : sqlString(k))).join(', ');
    const { cold } = this.#options;
    const run = this.#queue.then(async () => {
      const engine = await this.#engineOnce();
      const read = await cold.openForRead(paths.map((p) => ({ path: p })));
      try {
        const sql =
          `SELECT ${sqlIdent(column)}, ${FILE_COLUMN}, min(file_row_number) FROM ${readColdParquet(read.paths, 'union_by_name = true', `filename = '${FILE_COLUMN}'`, 'file_row_number = true')} ` +
          `WHERE ${sqlIdent(column)} IN (${literals}) GROUP BY ALL`;
        const pathOf = new Map(read.paths.map((local, i) => [local, paths[i]!]));
        return (await engine.connection.runAndReadAll(sql)).getRows().map(([value, local, row]) => [value, pathOf.get(String(local)) ?? String(local), Number(row)] as const);
      } catch (cause) {
        const names = paths.map((p) => cold.describe(p));
        throw new ColdFileError(
          names[0]!,
          `cannot read the key column ${column} of cold file(s) ${names.join(', ')} to dedupe appended rows: ${(cause as Error).message.split('\n')[0]}. ` +
            'Nothing was appended; run `tierdb validate` to check the manifest against the cold files.',
          { cause },
        );
      } finally {
        read.release();
      }
    });
    this.#queue = run.catch(() => undefined);
    for (const [value, p, row] of await run) {
      const id = coldKeyId(value);
      const hit = found.get(id);
      if (hit) hit.paths.set(p, row);
      else found.set(id, { key: value as ColdKey, paths: new Map([[p, row]]) });
    }
    return found;
  }

  #engineOnce(): Promise<DuckDbEngine> {
    if (this.#closed) return Promise.reject(new TierError('TIERDB_CLOSED', 'the store is closed: cold keys cannot be looked up'));
    this.#engine ??= DuckDbEngine.create({ memoryLimit: this.#options.memoryLimit, threads: 1 });
    return this.#engine;
  }

  /** Closes the DuckDB instance, once any lookup under way has finished. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const engine = this.#engine;
    if (engine) void this.#queue.then(() => engine).then((e) => e.close(), () => undefined);
  }
}
