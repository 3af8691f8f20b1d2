/**
 * One archiver at a time: a lease row in `_tierdb_leases` naming the owner's
 * pid, host and start. A lease whose process is dead (same host) is taken over.
 */
import os from 'node:os';
import type Database from 'better-sqlite3';
import { LeaseHeldError } from '../errors.js';

export interface Lease {
  readonly name: string;
  release(): void;
}

interface LeaseRow {
  owner_pid: number;
  host: string;
  started_at_ms: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the named lease or throws LeaseHeldError naming the holder. */
export function acquireLease(raw: Database.Database, name = 'archiver'): Lease {
  const host = os.hostname();
  const take = raw.transaction(() => {
    const row = raw.prepare('SELECT owner_pid, host, started_at_ms FROM _tierdb_leases WHERE name = ?').get(name) as LeaseRow | undefined;
    if (row && row.owner_pid !== process.pid) {
      const alive = row.host !== host || processAlive(row.owner_pid);
      if (alive) {
        throw new LeaseHeldError(
          `another archiver holds the ${name} lease: pid ${row.owner_pid} on ${row.host}, since ${new Date(row.started_at_ms).toISOString()}`,
        );
      }
    }
    raw
      .prepare('INSERT OR REPLACE INTO _tierdb_leases (name, owner_pid, host, started_at_ms) VALUES (?, ?, ?, ?)')
      .run(name, process.pid, host, Date.now());
  });
  take.immediate();
  return {
    name,
    release() {
      if (raw.open) raw.prepare('DELETE FROM _tierdb_leases WHERE name = ? AND owner_pid = ?').run(name, process.pid);
    },
  };
}

/** Whether a live process other than this one holds the lease. */
export function leaseHolder(raw: Database.Database, name = 'archiver'): LeaseRow | undefined {
  const row = raw.prepare('SELECT owner_pid, host, started_at_ms FROM _tierdb_leases WHERE name = ?').get(name) as LeaseRow | undefined;
  if (!row || row.owner_pid === process.pid) return undefined;
  if (row.host === os.hostname() && !processAlive(row.owner_pid)) return undefined;
  return row;
}
