/**
 * The frame of one maintenance job: the archiver lease (one writer of the
 * manifest at a time), a `_tierdb_runs` row of its kind with a random token
 * (part of every file name it writes, so recovery can prove a leftover is its
 * own), recovery of earlier leftovers, a DuckDB engine spilling into the cold
 * store's staging folder; at the end the run row records the report.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { runSpillDir } from '../cold/coldLayout.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { DuckDbEngine } from '../cold/DuckDbEngine.js';
import type { TierConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { Lease } from '../archive/lease.js';
import { finishDrains } from '../archive/finishDrains.js';
import { recover } from '../archive/recovery.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { failRun, finishMaintenanceRun, insertRunningRun, type RunKind } from '../manifest/runLog.js';
import type { MaintenanceContext } from './MaintenanceContext.js';

export interface MaintenanceDeps {
  raw: Database.Database;
  config: TierConfig;
  cold: ColdStore;
  logger: Logger;
  /** The registered tables: drains a killed archive run left on any of them are finished before the job (finishDrains). */
  tables?: readonly ResolvedTable[];
}

/** A DuckDB engine for maintenance: ISO text without an offset is UTC, as everywhere in tierdb. */
export async function createMaintenanceEngine(config: TierConfig, spillDir?: string): Promise<DuckDbEngine> {
  const engine = await DuckDbEngine.create({ memoryLimit: config.duckdbMemoryLimit, threads: config.archiveMaxWorkers, ...(spillDir ? { tempDirectory: spillDir } : {}) });
  try {
    await engine.connection.run(`SET TimeZone = 'UTC'`);
    return engine;
  } catch (error) {
    engine.close();
    throw error;
  }
}

export interface MaintenanceRun {
  readonly ctx: MaintenanceContext;
  readonly engine: DuckDbEngine;
  readonly runId: number;
  readonly runToken: string;
}

/** Runs `job` inside the frame; `errorsOf` names what failed in its report (recorded with the run). */
export async function withMaintenanceRun<R>(
  deps: MaintenanceDeps,
  kind: RunKind,
  job: (run: MaintenanceRun) => Promise<R>,
  errorsOf: (report: R) => string[],
): Promise<R> {
  const lease = Lease.acquire(deps.raw);
  const runToken = randomBytes(4).toString('hex');
  const spillDir = runSpillDir(deps.cold.stagingDir, runToken);
  let engine: DuckDbEngine | undefined;
  let runId: number | undefined;
  try {
    runId = insertRunningRun(deps.raw, Date.now(), runToken, kind);
    // migrate-cold removes (and reports) the local copies of a migration killed after its switch itself.
    await recover(deps.raw, deps.cold, lease, { currentRunId: runId, retiredGraceMs: deps.config.retiredGraceMs, ...(kind === 'migrate-cold' ? {} : { localColdDir: deps.config.coldDir }) });
    mkdirSync(spillDir, { recursive: true });
    engine = await createMaintenanceEngine(deps.config, spillDir);
    const ctx: MaintenanceContext = { ...deps, assertLease: () => lease.assertHeld() };
    // No job may rewrite or retire a file whose rows are still partly hot (swapManifestFiles refuses one).
    if (deps.tables) await finishDrains(ctx, engine, deps.tables);
    const report = await job({ ctx, engine, runId, runToken });
    finishMaintenanceRun(deps.raw, runId, report, errorsOf(report));
    return report;
  } catch (error) {
    if (runId !== undefined && deps.raw.open) failRun(deps.raw, runId, error);
    throw error;
  } finally {
    engine?.close();
    rmSync(spillDir, { recursive: true, force: true });
    lease.release();
  }
}
