/**
 * Where the cold tree's files live, behind one narrow interface (the way
 * Litestream puts `file` and `s3` behind `ReplicaClient`). Everything that
 * touches a cold file — the archiver's stages, recovery, validate, the bridge,
 * the append path's key lookups, maintenance — goes through a ColdStore and
 * never through `node:fs` on the tree itself.
 *
 * Paths are manifest paths: relative to the tree's root, `/`-separated
 * (`messages/year=2026/month=01/day=02/part-7-1-ab12cd34.parquet`).
 *
 * DuckDB only ever reads local files (httpfs cannot load here): a store hands
 * out local paths with `openForRead`, which a remote store fills from its
 * read-through cache, and files are written locally into `stagingDir` and
 * made durable in the tree with `put`.
 *
 * @example
 * const store = new LocalColdStore('/srv/app/data/cold');
 * await store.put(tmpFile, 'events/year=2026/month=01/part-1-1-ab12cd34.parquet', { bytes, sha256 });
 * const read = await store.openForRead([{ path, bytes, sha256 }]);
 * try { await duck.run(`SELECT count(*) FROM read_parquet(${read.paths[0]})`); } finally { read.release(); }
 */

/** A file in the tree, as listed or stat'ed. */
export interface ColdObjectInfo {
  /** Manifest path (relative, `/`-separated). */
  readonly path: string;
  readonly bytes: number;
  /** Last modification, unix ms (recovery leaves young unlisted objects alone on remote stores). */
  readonly mtimeMs: number;
  /** The sha256 stored with the object, where the store keeps one (`stat` on object storage: HEAD's `x-amz-meta-sha256`). */
  readonly sha256?: string | undefined;
}

/** What the manifest knows of a file: a remote store checks its cached copy against it. */
export interface ColdFileRef {
  readonly path: string;
  readonly bytes?: number | undefined;
  /** Whole-file sha256 (hex); null for files written before checksums. */
  readonly sha256?: string | null | undefined;
}

/** Local copies of files for one reader; `release` lets a cache evict them again. */
export interface ColdReadHandle {
  /** Local paths, in the order of the refs asked for. */
  readonly paths: readonly string[];
  release(): void;
}

export interface ColdStore {
  /** `local` or `s3`. */
  readonly kind: string;
  /** Where the tree is, for messages: a folder or `s3://bucket/prefix`. */
  readonly location: string;
  /**
   * A local folder for temp files and DuckDB spill. Never part of the tree:
   * listing skips it. Recovery removes in it only what a recorded run left.
   */
  readonly stagingDir: string;
  /** Local folders DuckDB may read cold files from (the bridge's `allowed_directories`). */
  readonly readableDirs: readonly string[];
  /**
   * Unlisted files younger than this are left alone by recovery even when
   * their name proves a crashed run wrote them: a slow upload may still finish.
   * 0 for a local folder, where the lease makes the writer certain.
   */
  readonly orphanSafetyAgeMs: number;

  /** A manifest path as a person should see it (absolute path or `s3://` URL). */
  describe(path: string): string;

  /**
   * Makes a verified local file durable in the tree at `path` and consumes it.
   * Local: fsync, rename, fsync the folders. Remote: upload, then confirm size
   * and sha256 before resolving. Throws ColdStoreError naming the place.
   */
  put(localFile: string, path: string, expect: { bytes: number; sha256: string }): Promise<void>;

  /**
   * Local paths DuckDB can read for these files (remote: verified cached copies).
   * `fresh`: read the tree itself, not a copy cached earlier (validate checks the objects).
   */
  openForRead(files: readonly ColdFileRef[], options?: { fresh?: boolean }): Promise<ColdReadHandle>;

  /** Size, modification time (and the stored sha256 where there is one), or undefined when the file is not there. */
  stat(path: string): Promise<ColdObjectInfo | undefined>;

  /** Every `.parquet` file of the tree (outside the staging folder and the `_iceberg` metadata folders), optionally under a prefix such as `messages/`. */
  list(prefix?: string): Promise<ColdObjectInfo[]>;

  /**
   * Object storage: aborts incomplete multipart uploads under the tree older
   * than `orphanSafetyAgeMs` (of runs that died mid-upload); returns how many.
   * Absent on a local folder. Recovery calls it.
   */
  abortIncompleteUploads?(now?: number): Promise<number>;

  /** Removes a file; a file already gone is not an error. */
  delete(path: string): Promise<void>;

  /** A small text object (the tree's `_tierdb_store.json` marker), or undefined when absent. */
  readText(path: string): Promise<string | undefined>;

  /** Writes a small text object durably (atomically replaced). */
  writeText(path: string, text: string): Promise<void>;

  close(): Promise<void>;
}
