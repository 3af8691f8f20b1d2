/**
 * Cold result cache (ARCHIVE_QUERY_CACHE_ENABLED, ARCHIVE_QUERY_CACHE_TTL):
 * the cold part of a `bridge.query`, keyed by the manifest version, the table,
 * its columns and the query. Cold files never change while the version stays
 * the same, so an entry is never stale; the TTL only bounds memory.
 */
export class ColdResultCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxRows: number;
  readonly #entries = new Map<string, { expires: number; rows: readonly unknown[][] }>();

  constructor(options: { enabled: boolean; ttlSeconds: number; maxEntries?: number; maxRowsPerEntry?: number }) {
    this.#ttlMs = options.enabled ? options.ttlSeconds * 1000 : 0;
    this.#maxEntries = options.maxEntries ?? 256;
    this.#maxRows = options.maxRowsPerEntry ?? 50_000;
  }

  get enabled(): boolean {
    return this.#ttlMs > 0;
  }

  /** Whether `rows` rows would be kept. */
  accepts(rows: number): boolean {
    return this.enabled && rows <= this.#maxRows;
  }

  get(key: string, now = Date.now()): readonly unknown[][] | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.rows;
  }

  has(key: string, now = Date.now()): boolean {
    return this.get(key, now) !== undefined;
  }

  set(key: string, rows: readonly unknown[][], now = Date.now()): void {
    if (!this.accepts(rows.length)) return;
    this.#entries.delete(key);
    this.#entries.set(key, { expires: now + this.#ttlMs, rows });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A stable cache key for any JSON-ish value with bigints and Buffers. */
export function cacheKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return { $bigint: v.toString() };
    if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { $bytes: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    return v;
  });
}
