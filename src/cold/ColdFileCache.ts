/**
 * The local read-through cache of a remote cold tree: DuckDB reads only local
 * files, so a query's cold files are fetched here first, and kept for the next
 * query while they fit under the size cap.
 *
 * - Layout: `<dir>/files/<encoded path>` (the cached copies), `<dir>/tmp/`
 *   (downloads under way: written there, renamed into `files/` when whole and
 *   checked, so a crash never leaves a torn copy under a final name),
 *   `<dir>/pins/<process>/` (the paths a reader is given, see below).
 * - Checked: a copy is checked against what the manifest recorded (size and
 *   whole-file sha256) when it is fetched, and again the first time this
 *   process hands it out (and whenever its size, inode or mtime changed since).
 *   A copy that does not match is deleted and fetched again; a fresh download
 *   that does not match means the object itself is damaged (ColdFileError).
 * - Pinned: a reader gets a hard link of each copy in this process's pin
 *   folder, held until `release`. Eviction — by this or another process sharing
 *   the folder — then removes only the cache's own name, never the bytes a
 *   query is reading; and this process never evicts a copy it has pinned. So a
 *   cap smaller than one query's files is still correct: the cache overshoots
 *   while the query runs and shrinks when it ends.
 * - Evicted least recently used first, once the folder's files pass the cap
 *   (the folder is rescanned then, so other processes' copies count).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ColdFileError } from '../errors.js';
import type { ColdFileRef, ColdReadHandle } from './ColdStore.js';

/** Downloads one object into `tmpFile`; resolves with what was written. */
export type CacheFetcher = (ref: ColdFileRef, tmpFile: string) => Promise<{ bytes: number; sha256: string }>;

export interface ColdFileCacheOptions {
  dir: string;
  /** The size the cached copies are kept under (pinned copies may overshoot it). */
  maxBytes: number;
  fetch: CacheFetcher;
  /** A manifest path as people should see it (an `s3://` URL), for messages. */
  describe: (path: string) => string;
  /** Downloads at once for one `open` (default 4). */
  concurrency?: number;
}

/** What the cache did, for benchmarks and tests. */
export interface ColdFileCacheStats {
  /** Files handed out from the cache without a download. */
  hits: number;
  /** Files downloaded. */
  fetches: number;
  fetchedBytes: number;
  /** Cached copies that failed their check and were fetched again. */
  corrupt: number;
  evicted: number;
  /** Bytes of the cached copies as this process last counted them. */
  bytes: number;
}

interface Entry {
  name: string;
  bytes: number;
  lastUsed: number;
  pins: number;
  /** The pin link readers are given while pins > 0. */
  pinPath: string | undefined;
  /** The file as it was when this process last checked it against `sha256`. */
  verified: { size: number; ino: number; mtimeMs: number; sha256: string } | undefined;
}

/** A cached copy's file name: the manifest path, `/` and other unsafe characters %-encoded (one flat folder). */
export function cacheFileName(rel: string): string {
  return encodeURIComponent(rel).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ColdFileCache {
  readonly dir: string;
  readonly #filesDir: string;
  readonly #tmpDir: string;
  readonly #pinDir: string;
  readonly #options: ColdFileCacheOptions;
  readonly #entries = new Map<string, Entry>();
  /** Downloads under way, by manifest path: a second reader waits for the first. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #total = 0;
  #started = false;
  #closed = false;
  readonly #stats = { hits: 0, fetches: 0, fetchedBytes: 0, corrupt: 0, evicted: 0 };

  constructor(options: ColdFileCacheOptions) {
    this.#options = options;
    this.dir = path.resolve(options.dir);
    this.#filesDir = path.join(this.dir, 'files');
    this.#tmpDir = path.join(this.dir, 'tmp');
    this.#pinDir = path.join(this.dir, 'pins', `${process.pid}.${randomBytes(4).toString('hex')}`);
  }

  stats(): ColdFileCacheStats {
    return { ...this.#stats, bytes: this.#total };
  }

  /**
   * Local paths for these files (in the order asked), each a checked copy,
   * pinned until `release`. Fetches what is missing, a few at a time.
   */
  async open(refs: readonly ColdFileRef[]): Promise<ColdReadHandle> {
    this.#start();
    const distinct = [...new Map(refs.map((r) => [r.path, r])).values()];
    const pinned = new Map<string, string>();
    const releaseAll = () => {
      for (const rel of pinned.keys()) this.#unpin(rel);
      pinned.clear();
    };
    // Every worker runs to its end before the outcome is decided: a worker still fetching when
    // another fails would otherwise pin its file after the failure released the rest (a pin left behind).
    let failure: { error: unknown } | undefined;
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < distinct.length) {
        const ref = distinct[next++]!;
        try {
          pinned.set(ref.path, await this.#acquire(ref));
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency ?? 4, distinct.length) }, worker));
    if (failure !== undefined) {
      releaseAll();
      this.#evict();
      throw failure.error;
    }
    this.#evict();
    let released = false;
    return {
      paths: refs.map((r) => pinned.get(r.path)!),
      release: () => {
        if (released) return;
        released = true;
        releaseAll();
        this.#evict();
      },
    };
  }

  /**
   * Takes a local file whose size and sha256 are known (a file just uploaded)
   * in as the cached copy of `ref.path`, saving the first query its download.
   * Consumes the file either way (removed when it cannot be moved in).
   */
  adopt(localFile: string, ref: { path: string; bytes: number; sha256: string }): void {
    this.#start();
    const name = cacheFileName(ref.path);
    const target = path.join(this.#filesDir, name);
    try {
      renameSync(localFile, target);
    } catch {
      rmSync(localFile, { force: true });
      this.#evict();
      return;
    }
    const s = statSync(target);
    const entry = this.#entry(ref.path, name);
    this.#total += s.size - entry.bytes;
    entry.bytes = s.size;
    entry.lastUsed = Date.now();
    entry.verified = { size: s.size, ino: s.ino, mtimeMs: s.mtimeMs, sha256: ref.sha256 };
    this.#evict();
  }

  /** Drops the cached copy of a file deleted from the tree (a reader holding it keeps its pin). */
  forget(rel: string): void {
    this.#start();
    const name = cacheFileName(rel);
    rmSync(path.join(this.#filesDir, name), { force: true });
    const entry = this.#entries.get(rel);
    if (entry) {
      this.#total -= entry.bytes;
      entry.bytes = 0;
      entry.verified = undefined;
      if (entry.pins === 0) this.#entries.delete(rel);
    }
  }

  /** Removes this process's pins (readers must have released them). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#started) rmSync(this.#pinDir, { recursive: true, force: true });
  }

  #start(): void {
    if (this.#closed) throw new ColdFileError(this.dir, `the cold file cache ${this.dir} is closed`);
    if (this.#started) return;
    mkdirSync(this.#filesDir, { recursive: true });
    mkdirSync(this.#tmpDir, { recursive: true });
    // Leftovers of processes that are gone: their pins, their half-done downloads.
    const pinsRoot = path.dirname(this.#pinDir);
    mkdirSync(pinsRoot, { recursive: true });
    for (const d of readdirSync(pinsRoot)) {
      const pid = Number(d.split('.')[0]);
      if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) rmSync(path.join(pinsRoot, d), { recursive: true, force: true });
    }
    for (const f of readdirSync(this.#tmpDir)) {
      const pid = Number(/\.(\d+)\.[0-9a-f]+\.part$/.exec(f)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) rmSync(path.join(this.#tmpDir, f), { force: true });
    }
    mkdirSync(this.#pinDir, { recursive: true });
    this.#started = true;
    this.#rescan();
  }

  #entry(rel: string, name = cacheFileName(rel)): Entry {
    let entry = this.#entries.get(rel);
    if (!entry) {
      entry = { name, bytes: 0, lastUsed: 0, pins: 0, pinPath: undefined, verified: undefined };
      this.#entries.set(rel, entry);
    }
    return entry;
  }

  /** A checked copy of `ref`, pinned: returns the pin's path. */
  async #acquire(ref: ColdFileRef): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const waiting = this.#inFlight.get(ref.path);
      if (waiting) await waiting.catch(() => undefined);
      const entry = this.#entry(ref.path);
      const file = path.join(this.#filesDir, entry.name);
      // Already pinned by this process: the pinned bytes were checked when first pinned.
      if (entry.pins > 0 && entry.pinPath !== undefined && (entry.verified === undefined || ref.sha256 == null || entry.verified.sha256 === ref.sha256)) {
        entry.pins++;
        entry.lastUsed = Date.now();
        this.#stats.hits++;
        return entry.pinPath;
      }
      const s = statOrUndefined(file);
      if (s && (await this.#matches(entry, file, s, ref))) {
        // Pin synchronously after the check: no eviction can run in between.
        const pinned = this.#pin(entry, file);
        if (pinned !== undefined) {
          this.#stats.hits++;
          return pinned;
        }
      } else if (s) {
        this.#stats.corrupt++;
        rmSync(file, { force: true });
        this.#total -= entry.bytes;
        entry.bytes = 0;
        entry.verified = undefined;
      }
      if (attempt >= 3) throw new ColdFileError(this.#options.describe(ref.path), `the cached copy of ${this.#options.describe(ref.path)} kept disappearing from ${this.#filesDir}`);
      await this.#download(ref, entry);
      const fresh = statOrUndefined(file);
      if (fresh) {
        const pinned = this.#pin(entry, file);
        if (pinned !== undefined) return pinned;
      }
      // Evicted by another process between download and pin: go round again.
    }
  }

  /** Whether a cached file is the one the manifest describes (hashing it unless this process checked it unchanged). */
  async #matches(entry: Entry, file: string, s: Stats, ref: ColdFileRef): Promise<boolean> {
    if (ref.bytes !== undefined && s.size !== ref.bytes) return false;
    if (entry.bytes !== s.size) {
      this.#total += s.size - entry.bytes;
      entry.bytes = s.size;
    }
    if (ref.sha256 == null) return true;
    const v = entry.verified;
    if (v && v.size === s.size && v.ino === s.ino && v.mtimeMs === s.mtimeMs && v.sha256 === ref.sha256) return true;
    const sha = await sha256Of(file);
    if (sha !== ref.sha256) return false;
    entry.verified = { size: s.size, ino: s.ino, mtimeMs: s.mtimeMs, sha256: sha };
    return true;
  }

  #download(ref: ColdFileRef, entry: Entry): Promise<void> {
    const existing = this.#inFlight.get(ref.path);
    if (existing) return existing;
    const run = (async () => {
      const tmp = path.join(this.#tmpDir, `${entry.name}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
      try {
        const got = await this.#options.fetch(ref, tmp);
        const shown = this.#options.describe(ref.path);
        if (ref.bytes !== undefined && got.bytes !== ref.bytes) {
          throw new ColdFileError(shown, `cold file ${shown} has ${got.bytes} bytes, the manifest recorded ${ref.bytes}: run tierdb validate`);
        }
        if (ref.sha256 != null && got.sha256 !== ref.sha256) {
          throw new ColdFileError(shown, `cold file ${shown} is damaged (sha256 ${got.sha256}, the manifest recorded ${ref.sha256}): run tierdb validate`);
        }
        const file = path.join(this.#filesDir, entry.name);
        renameSync(tmp, file);
        const s = statSync(file);
        this.#total += s.size - entry.bytes;
        entry.bytes = s.size;
        entry.lastUsed = Date.now();
        entry.verified = ref.sha256 == null ? undefined : { size: s.size, ino: s.ino, mtimeMs: s.mtimeMs, sha256: got.sha256 };
        this.#stats.fetches++;
        this.#stats.fetchedBytes += got.bytes;
      } finally {
        rmSync(tmp, { force: true });
      }
    })();
    this.#inFlight.set(ref.path, run);
    const done = () => {
      if (this.#inFlight.get(ref.path) === run) this.#inFlight.delete(ref.path);
    };
    run.then(done, done);
    return run;
  }

  /** Pins a present copy: a hard link in this process's pin folder (the copy itself where links do not work). Undefined when the copy is gone. */
  #pin(entry: Entry, file: string): string | undefined {
    if (entry.pins === 0 || entry.pinPath === undefined) {
      const link = path.join(this.#pinDir, entry.name);
      try {
        rmSync(link, { force: true });
        linkSync(file, link);
        entry.pinPath = link;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return undefined;
        // No hard links here (another file system, a restricted one): readers get the copy itself.
        entry.pinPath = file;
      }
    }
    entry.pins++;
    entry.lastUsed = Date.now();
    return entry.pinPath;
  }

  #unpin(rel: string): void {
    const entry = this.#entries.get(rel);
    if (!entry || entry.pins === 0) return;
    entry.pins--;
    if (entry.pins > 0) return;
    if (entry.pinPath !== undefined && entry.pinPath.startsWith(this.#pinDir + path.sep)) {
      try {
        unlinkSync(entry.pinPath);
      } catch {
        // already gone
      }
    }
    entry.pinPath = undefined;
  }

  /** Counts the folder's copies again (other processes add and evict too). */
  #rescan(): void {
    const seen = new Set<string>();
    let total = 0;
    for (const name of readdirSync(this.#filesDir)) {
      const s = statOrUndefined(path.join(this.#filesDir, name));
      if (!s?.isFile()) continue;
      let rel: string;
      try {
        rel = decodeURIComponent(name);
      } catch {
        continue;
      }
      const entry = this.#entry(rel, name);
      if (entry.lastUsed === 0) entry.lastUsed = s.mtimeMs;
      entry.bytes = s.size;
      total += s.size;
      seen.add(rel);
    }
    for (const [rel, entry] of this.#entries) {
      if (seen.has(rel)) continue;
      entry.bytes = 0;
      entry.verified = undefined;
      if (entry.pins === 0) this.#entries.delete(rel);
    }
    this.#total = total;
  }

  /** Least recently used copies out until the cap holds; never one this process has pinned. */
  #evict(): void {
    if (this.#closed || this.#total <= this.#options.maxBytes) return;
    this.#rescan();
    if (this.#total <= this.#options.maxBytes) return;
    const candidates = [...this.#entries.entries()].filter(([rel, e]) => e.pins === 0 && e.bytes > 0 && !this.#inFlight.has(rel)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [rel, entry] of candidates) {
      if (this.#total <= this.#options.maxBytes) break;
      rmSync(path.join(this.#filesDir, entry.name), { force: true });
      this.#total -= entry.bytes;
      this.#stats.evicted++;
      this.#entries.delete(rel);
    }
  }

  /** For tests: whether a copy of `rel` is in the cache folder. */
  has(rel: string): boolean {
    return existsSync(path.join(this.#filesDir, cacheFileName(rel)));
  }

  /** For tests: the cached copy's path (it may not exist). */
  pathOf(rel: string): string {
    return path.join(this.#filesDir, cacheFileName(rel));
  }
}
