/**
 * DuckDB data chunks kept for reuse, per list of column types. node-api frees
 * a data chunk's native vectors only when V8 collects its JS wrapper, and a run
 * that makes little JS garbage collects rarely: archiving 1M demo messages
 * (~800 data chunks, ~260 KB of vectors each) let peak RSS creep from 230 to
 * 430 MB through the run, and stay at 280–300 MB with a full GC every 500 ms.
 * A chunk comes back here (reset) once the appender has copied it.
 */
import type { DuckDBType } from '@duckdb/node-api';
import { DuckDBDataChunk } from './duckdbApi.js';

/** Free chunks kept per type list; more are left to the GC. */
const KEEP = 32;

export class DataChunkPool {
  readonly #free = new Map<string, Set<DuckDBDataChunk>>();
  readonly #keyOf = new WeakMap<DuckDBDataChunk, string>();

  /** A chunk of `rows` rows typed `types`: a free one, or a new one. */
  acquire(types: readonly DuckDBType[], rows: number): DuckDBDataChunk {
    const key = types.map(String).join(',');
    const free = this.#free.get(key);
    const reused = free?.values().next().value;
    if (reused) {
      free!.delete(reused);
      reused.rowCount = rows;
      return reused;
    }
    const chunk = DuckDBDataChunk.create(types, rows);
    this.#keyOf.set(chunk, key);
    return chunk;
  }

  /**
   * `chunk` is not used any more: reset (its strings let go) and kept for reuse. Its last holder
   * releases it, once, and keeps no reference: the next `acquire` may hand it out again.
   */
  release(chunk: DuckDBDataChunk): void {
    const key = this.#keyOf.get(chunk);
    if (key === undefined) {
      chunk.reset();
      return;
    }
    let free = this.#free.get(key);
    if (!free) this.#free.set(key, (free = new Set()));
    if (free.has(chunk)) return;
    chunk.reset();
    if (free.size < KEEP) free.add(chunk);
  }
}
