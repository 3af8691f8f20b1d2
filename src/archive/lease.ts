/**
 * One archiver at a time per store: a lease row in `_tierdb_leases`.
 *
 * The holder is a random token taken with the lease, never a pid: two stores
 * in one process, two `run()` calls, or two containers whose node is pid 1 are
 * all different holders. A lease lapses at `expires_at_ms` unless its holder
 * renews it (a heartbeat renews it every third of its TTL, and every commit
 * checks and renews it inside the commit transaction, so a holder that lost
 * its lease can never commit). A holder known dead is taken over at once only
 * where its pid means something: same kernel boot and same pid namespace.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import type Database from 'better-sqlite3';
import { LeaseHeldError, LeaseLostError } from '../errors.js';

/** How long a lease lives without renewal. */
export const DEFAULT_LEASE_TTL_MS = 60_000;

interface LeaseRow {
  owner_pid: number;
  host: string;
  started_at_ms: number;
  token: string | null;
  expires_at_ms: number | null;
  kernel_id: string | null;
}

export interface LeaseOptions {
  name?: string;
  ttlMs?: number;
}

let cachedKernelId: string | undefined;

/**
 * Where a pid names one process: the kernel boot id and the pid namespace
 * (Linux), else the host name. Containers sharing a volume differ here.
 */
export function kernelId(): string {
  if (cachedKernelId !== undefined) return cachedKernelId;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    cachedKernelId = `${boot}/${ns}`;
  } catch {
    cachedKernelId = `host:${os.hostname()}`;
  }
  return cachedKernelId;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRow(raw: Database.Database, name: string): LeaseRow | undefined {
  return raw
    .prepare('SELECT owner_pid, host, started_at_ms, token, expires_at_ms, kernel_id FROM _tierdb_leases WHERE name = ?')
    .get(name) as LeaseRow | undefined;
}

/** Whether `row` may be taken over now by someone else. */
function lapsed(row: LeaseRow, now: number): boolean {
  // Rows written before tokens existed have no expiry: they lapse like a dead holder or after the default TTL.
  const expires = row.expires_at_ms ?? row.started_at_ms + DEFAULT_LEASE_TTL_MS;
  if (expires <= now) return true;
  const sameKernel = row.kernel_id !== null ? row.kernel_id === kernelId() : row.host === os.hostname();
  return sameKernel && row.owner_pid !== process.pid && !processAlive(row.owner_pid);
}

function describe(name: string, row: LeaseRow): string {
  const expires = row.expires_at_ms === null ? 'unknown' : new Date(row.expires_at_ms).toISOString();
  return `another archiver holds the ${name} lease: pid ${row.owner_pid} on ${row.host}, since ${new Date(row.started_at_ms).toISOString()} (lapses at ${expires} unless renewed)`;
}

/** A lease this instance holds. */
export class Lease {
  readonly name: string;
  readonly token: string;
  readonly #raw: Database.Database;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #released = false;

  private constructor(raw: Database.Database, name: string, token: string, ttlMs: number) {
    this.#raw = raw;
    this.name = name;
    this.token = token;
    this.#ttlMs = ttlMs;
  }

  /**
   * Takes the named lease or throws LeaseHeldError naming the holder.
   *
   * @example
   * const lease = Lease.acquire(raw);
   * try { ... lease.assertHeld() inside each commit ... } finally { lease.release(); }
   */
  static acquire(raw: Database.Database, options: LeaseOptions = {}): Lease {
    const name = options.name ?? 'archiver';
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const token = randomBytes(12).toString('hex');
    raw
      .transaction(() => {
        const now = Date.now();
        const row = readRow(raw, name);
        if (row && !lapsed(row, now)) throw new LeaseHeldError(describe(name, row));
        raw
          .prepare(
            `INSERT OR REPLACE INTO _tierdb_leases (name, owner_pid, host, started_at_ms, token, expires_at_ms, kernel_id)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(name, process.pid, os.hostname(), now, token, now + ttlMs, kernelId());
      })
      .immediate();
    const lease = new Lease(raw, name, token, ttlMs);
    lease.#timer = setInterval(() => lease.#heartbeat(), Math.max(50, Math.floor(ttlMs / 3)));
    lease.#timer.unref();
    return lease;
  }

  #heartbeat(): void {
    try {
      if (this.#raw.open) this.renew();
    } catch {
      // A busy database or a lost lease: the next commit's assertHeld decides.
    }
  }

  /** Extends the lease; throws LeaseLostError when someone else holds it now. */
  renew(): void {
    const changed = this.#raw
      .prepare('UPDATE _tierdb_leases SET expires_at_ms = ? WHERE name = ? AND token = ?')
      .run(Date.now() + this.#ttlMs, this.name, this.token).changes;
    if (changed !== 1) throw this.#lost();
  }

  /**
   * Call inside a write transaction before changing the manifest: the lease
   * is still this instance's (then it is renewed), or LeaseLostError.
   */
  assertHeld(): void {
    if (this.#released) throw new LeaseLostError(`the ${this.name} lease was already released`);
    this.renew();
  }

  #lost(): LeaseLostError {
    const row = readRow(this.#raw, this.name);
    return new LeaseLostError(
      `the ${this.name} lease was lost${row ? `: ${describe(this.name, row).replace(/^another archiver holds/, 'another holder has')}` : ''}; nothing more is committed`,
    );
  }

  /** Gives the lease back (only if still ours). */
  release(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#released) return;
    this.#released = true;
    if (this.#raw.open) this.#raw.prepare('DELETE FROM _tierdb_leases WHERE name = ? AND token = ?').run(this.name, this.token);
  }
}

/** The current holder when the lease is held by someone and has not lapsed; else undefined. */
export function leaseHolder(raw: Database.Database, name = 'archiver'): LeaseRow | undefined {
  const row = readRow(raw, name);
  if (!row || lapsed(row, Date.now())) return undefined;
  return row;
}
