/**
 * `tierdb rebuild-manifest`: the manifest (`_tierdb_files`) made again from
 * the cold tree itself, after the hot file was lost, replaced by an older
 * backup, or its manifest damaged. Each file's footer says what it holds;
 * each file is verified before it is listed (verifyColdFile).
 *
 *   1. under the archiver lease, list the tree through the ColdStore and
 *      record the rebuild as a run, with the run id sequence moved past every
 *      run id in the tree (no later run reuses one);
 *   2. verify every file; files that fail, or name an unregistered table, are
 *      reported and left alone (never deleted);
 *   3. per table, keys held twice (resolveKeyConflicts): hot and cold → the
 *      hot row wins; two files → the file of the newer run wins. A file whose
 *      keys all lost is retired; one with some is rewritten without them
 *      (rewriteFiles, the maintenance swap's write half: write, fsync, verify,
 *      put), the original retired. A file its old row says was still draining
 *      counts only its drained prefix (the rest is hot, or deleted by the app
 *      since the commit): listed with its `drained_rows` kept, or rewritten
 *      into its cold rows only. A file without an old row cannot say how far
 *      its drain got: its rows not hot are listed (never lost), so a row the
 *      app deleted before its drain comes back (docs/ARCHITECTURE.md);
 *   4. one `BEGIN IMMEDIATE` transaction: the lease still held, the manifest
 *      and the hot keys in the files' key ranges unchanged since step 3 (else
 *      step 3 again), each table's rows replaced, `manifest_version` bumped,
 *      the run `ok`. This is the commit point: before it the old manifest
 *      stands, after it the new one.
 *
 * Rows of the old manifest: `retired` stay retired; `pending` stay when their
 * file verifies (their rows are still hot) and go otherwise; `live` rows whose
 * file is missing or fails verification stay (queries that need them fail
 * naming the file) unless `dropUnverified`. Retired files are unlinked by
 * recovery once no query can still read them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { backupHotFile } from '../archive/backupHotFile.js';
import { keyForManifest } from '../archive/chunkKeys.js';
import { dataVersion } from '../archive/commitChunk.js';
import { failpoint } from '../archive/failpoint.js';
import { Lease } from '../archive/lease.js';
import { fileId, parseFileId, runSpillDir } from '../cold/coldLayout.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { ColdFileError, ManifestChangedError, ReadOnlyStoreError } from '../errors.js';
import { listFiles, replaceTableFiles, type ManifestFile, type ManifestFileInput } from '../manifest/manifestFiles.js';
import { bumpManifestVersion, readManifestVersion } from '../manifest/manifestVersion.js';
import { failRun, finishMaintenanceRun, insertRunningRun, reserveRunIdsThrough, runStates } from '../manifest/runLog.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { selectTables } from '../registry/selectTables.js';
import { hotKeysFingerprint } from './hotKeysInRange.js';
import type { MaintenanceContext } from './MaintenanceContext.js';
import { createMaintenanceEngine, type MaintenanceDeps } from './maintenanceRun.js';
import type { RebuildManifestOptions, RebuildReport, RebuildTableReport } from './RebuildReport.js';
import { resolveKeyConflicts, type TablePlan } from './resolveKeyConflicts.js';
import { rewriteFiles } from './rewriteFiles.js';
import { verifyColdFile, type VerifiedFile } from './verifyColdFile.js';

/** What a rebuild is handed: the maintenance deps, every registered table, and whether the store is read-only. */
export interface RebuildDeps extends MaintenanceDeps {
  readonly tables: readonly ResolvedTable[];
  readonly readonly?: boolean;
}

/** Plans made before giving up when the app keeps writing keys inside the files' key ranges. */
const MAX_ATTEMPTS = 3;

/** The hot keys a plan was resolved against changed before its commit (retried). */
class HotKeysChanged extends Error {}

/**
 * Rebuilds the manifest of `options.tables` (default all registered tables) from the cold tree.
 *
 * @example
 * const report = await store.maintenance.rebuildManifest({ dryRun: true });
 * for (const c of report.conflicts) console.log(`${c.table}: ${c.keys} keys of ${c.file} lost to ${c.winner}`);
 */
export async function rebuildManifest(deps: RebuildDeps, options: RebuildManifestOptions = {}): Promise<RebuildReport> {
  const started = Date.now();
  const dryRun = options.dryRun ?? false;
  const { raw, config, cold, logger } = deps;
  if (!dryRun && deps.readonly) {
    throw new ReadOnlyStoreError(`this store was opened read-only (${config.hotPath}): only a dry run of rebuild-manifest can be made; open it for writing to rebuild`);
  }
  // Every registered table by default, disabled ones too: their files are data all the same.
  const tables = options.tables === undefined ? [...deps.tables] : selectTables(deps.tables, options.tables);
  const selected = new Map(tables.map((t) => [t.table, t]));
  const registered = new Map(deps.tables.map((t) => [t.table, t]));
  const report: RebuildReport = {
    kind: 'rebuild',
    dryRun,
    runId: null,
    startedAt: new Date(started).toISOString(),
    endedAt: '',
    durationMs: 0,
    coldLocation: cold.location,
    filesScanned: 0,
    filesVerified: 0,
    manifestVersionBefore: 0,
    manifestVersionAfter: 0,
    tables: [],
    problems: [],
    unverified: [],
    conflicts: [],
    rewritten: [],
    highestRunIdInTree: null,
    runIdsReservedThrough: null,
    attempts: 0,
  };
  const lease = dryRun ? undefined : Lease.acquire(raw);
  const token = randomBytes(4).toString('hex');
  // A dry run writes nothing anywhere near the store, not even DuckDB's spill folder.
  const spillDir = dryRun ? mkdtempSync(path.join(os.tmpdir(), 'tierdb-rebuild-')) : runSpillDir(cold.stagingDir, token);
  let engine: DuckDbEngine | undefined;
  const written: string[] = [];
  try {
    // 1. The tree; the rebuild's run recorded first (its files and its spill folder carry its token,
    // so recovery can remove them if it never commits), with the run id sequence moved past every id in the tree.
    const tree = await cold.list();
    const highest = tree.reduce((max, f) => Math.max(max, parseFileId(f.path.slice(f.path.lastIndexOf('/') + 1))?.runId ?? 0), 0);
    report.highestRunIdInTree = highest > 0 ? highest : null;
    const runs = runStates(raw);
    if (!dryRun) {
      if (config.archiveBackupEnabled) await backupHotFile(raw, config.dataDir, config.archiveBackupKeep);
      raw
        .transaction(() => {
          lease!.assertHeld();
          if (highest > 0 && reserveRunIdsThrough(raw, highest)) report.runIdsReservedThrough = highest;
          report.runId = insertRunningRun(raw, started, token, 'rebuild');
        })
        .immediate();
      failpoint('rebuild-after-run-recorded');
      mkdirSync(spillDir, { recursive: true });
    }
    engine = await createMaintenanceEngine(config, spillDir);
    const ctx: MaintenanceContext = { raw, config, cold, logger, assertLease: () => lease!.assertHeld() };

    // 2. Every file verified.
    const scanned = options.tables === undefined ? tree : tree.filter((f) => tables.some((t) => f.path.startsWith(`${t.table}/`)));
    report.filesScanned = scanned.length;
    const versionBefore = readManifestVersion(raw);
    report.manifestVersionBefore = versionBefore;
    report.manifestVersionAfter = versionBefore;
    const oldRows = listFiles(raw, undefined, ['live', 'pending', 'retired']);
    const rowByPath = new Map(oldRows.map((r) => [r.path, r]));
    const keepIds = new Map<string, number[]>(tables.map((t) => [t.table, []]));
    /** Old live rows whose file verified: what the file cannot say of itself (hot_bytes, created_at_ms) carries over. */
    const carried = new Map<string, ManifestFile>();
    const candidates: VerifiedFile[] = [];
    const handled = new Set<string>();
    for (const [i, info] of scanned.entries()) {
      options.onProgress?.({ phase: 'verify', done: i, total: scanned.length });
      const witness = rowByPath.get(info.path);
      if (witness && (!selected.has(witness.table_name) || witness.state === 'retired')) continue;
      handled.add(info.path);
      const verdict = await verifyColdFile(engine, cold, info, registered, witness);
      if (verdict.ok && verdict.witnessProblem === undefined) {
        report.filesVerified++;
        if (witness?.state === 'pending') keepIds.get(witness.table_name)!.push(witness.id);
        else {
          if (witness) carried.set(info.path, witness);
          candidates.push(verdict.file);
        }
        continue;
      }
      if (witness) {
        const drop = witness.state === 'pending' || options.dropUnverified === true;
        report.unverified.push({
          table: witness.table_name,
          path: witness.path,
          state: witness.state as 'live' | 'pending',
          rows: witness.rows,
          problem: verdict.ok ? verdict.witnessProblem! : `${verdict.problem.kind}: ${verdict.problem.detail}`,
          action: drop ? 'dropped' : 'kept',
        });
        if (!drop) {
          keepIds.get(witness.table_name)!.push(witness.id);
          continue;
        }
      }
      // No manifest row (or its row dropped): the file is judged by its own footer.
      if (verdict.ok) {
        report.filesVerified++;
        candidates.push(verdict.file);
      } else report.problems.push(verdict.problem);
    }
    options.onProgress?.({ phase: 'verify', done: scanned.length, total: scanned.length });
    const inTree = new Set(tree.map((f) => f.path));
    for (const r of oldRows) {
      if (!selected.has(r.table_name) || handled.has(r.path)) continue;
      if (r.state === 'retired' || inTree.has(r.path)) {
        keepIds.get(r.table_name)!.push(r.id);
        continue;
      }
      const drop = r.state === 'pending' || options.dropUnverified === true;
      report.unverified.push({
        table: r.table_name,
        path: r.path,
        state: r.state as 'live' | 'pending',
        rows: r.rows,
        problem: `missing: the manifest lists it but there is no ${cold.describe(r.path)}`,
        action: drop ? 'dropped' : 'kept',
      });
      if (!drop) keepIds.get(r.table_name)!.push(r.id);
    }
    const rankOf = rankFiles(candidates, carried, runs);
    failpoint('rebuild-after-verify');

    // 3. Keys held twice, and 4. the commit: again while the app changes hot keys inside the files' ranges.
    let seq = 0;
    for (let attempt = 1; ; attempt++) {
      report.attempts = attempt;
      const readAt = dataVersion(raw);
      const plans: TablePlan[] = [];
      const rewrites = new Map<string, { from: VerifiedFile; row: ManifestFileInput | null; dropped: number }[]>();
      for (const t of tables) {
        const files = candidates.filter((f) => f.table === t.table);
        const handle = await cold.openForRead(files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })));
        try {
          options.onProgress?.({ phase: 'resolve', done: plans.length, total: tables.length, table: t.table });
          const plan = await resolveKeyConflicts(
            engine,
            raw,
            t,
            files.map((file, i) => ({ file, local: handle.paths[i]!, rank: rankOf.get(file.path)!, drainedRows: carried.get(file.path)?.drained_rows ?? null })),
          );
          plans.push(plan);
          const out: { from: VerifiedFile; row: ManifestFileInput | null; dropped: number }[] = [];
          for (const [i, r] of plan.rewrite.entries()) {
            options.onProgress?.({ phase: 'rewrite', done: i, total: plan.rewrite.length, table: t.table });
            if (dryRun) {
              out.push({ from: r.file, row: null, dropped: r.dropKeys.length });
              continue;
            }
            const runId = report.runId!;
            const row = await rewriteWithout(ctx, engine, t, r.file, carried.get(r.file.path), r.dropKeys, { id: fileId(runId, ++seq, token), runId });
            written.push(row.path);
            out.push({ from: r.file, row, dropped: r.dropKeys.length });
          }
          rewrites.set(t.table, out);
        } finally {
          handle.release();
        }
      }
      const now = Date.now();
      const rowsOf = (table: string): ManifestFileInput[] => {
        const plan = plans.find((p) => p.table === table)!;
        return [
          ...plan.keep.map((f) => manifestRow(f, carried.get(f.path), null)),
          ...plan.retire.map((f) => manifestRow(f, carried.get(f.path), now)),
          ...(rewrites.get(table) ?? []).flatMap((w) => [manifestRow(w.from, carried.get(w.from.path), now), ...(w.row ? [w.row] : [])]),
        ];
      };
      fillTableReports(report, tables, plans, rewrites, oldRows, keepIds, rowsOf);
      if (dryRun) break;
      try {
        options.onProgress?.({ phase: 'commit', done: 0, total: 1 });
        raw
          .transaction(() => {
            lease!.assertHeld();
            const version = readManifestVersion(raw);
            if (version !== versionBefore) {
              throw new ManifestChangedError(
                `the manifest changed while it was being rebuilt (manifest_version ${versionBefore} → ${version}) although this rebuild holds the archiver lease; nothing was committed`,
              );
            }
            if (dataVersion(raw) !== readAt) {
              for (const p of plans) {
                const t = selected.get(p.table)!;
                if (p.hotRange && hotKeysFingerprint(raw, t.table, t.keyColumn, p.hotRange) !== p.hotFingerprint) throw new HotKeysChanged(t.table);
              }
            }
            for (const t of tables) replaceTableFiles(raw, t.table, keepIds.get(t.table)!, rowsOf(t.table));
            bumpManifestVersion(raw);
            report.manifestVersionAfter = readManifestVersion(raw);
            finish(report, started);
            // The run is `ok` in its own commit: recovery then knows every unlisted file of a rebuild that is not ok is a leftover.
            finishMaintenanceRun(raw, report.runId!, report, []);
            failpoint('rebuild-inside-commit');
          })
          .immediate();
        // Committed: the rewritten files are listed now, never to be removed as leftovers.
        written.length = 0;
        failpoint('rebuild-after-commit');
        break;
      } catch (error) {
        if (!(error instanceof HotKeysChanged)) throw error;
        for (const p of written.splice(0)) await cold.delete(p);
        if (attempt >= MAX_ATTEMPTS) {
          throw new ManifestChangedError(
            `hot rows of ${error.message} with keys inside its cold files' key ranges kept changing while the manifest was being rebuilt (${attempt} attempts); nothing was committed: run rebuild-manifest again while the app is not writing those keys`,
          );
        }
        logger.info({ table: error.message, attempt }, 'hot keys changed before the rebuild could commit; resolving again');
      }
    }
    return finish(report, started);
  } catch (error) {
    for (const p of written) await cold.delete(p).catch(() => undefined);
    if (report.runId !== null && raw.open) failRun(raw, report.runId, error);
    throw error;
  } finally {
    engine?.close();
    rmSync(spillDir, { recursive: true, force: true });
    lease?.release();
  }
}

/**
 * Each candidate's rank (higher wins a key held twice): the run id from its
 * name (or its manifest row; files without either are oldest), then — for a
 * run id handed out twice, by an older backup restored — the run this hot
 * file recorded with that token, then the seq, then the path.
 */
function rankFiles(files: readonly VerifiedFile[], carried: ReadonlyMap<string, ManifestFile>, runs: ReadonlyMap<number, { token: string | null }>): Map<string, number> {
  const key = (f: VerifiedFile): [number, number, number, string] => [
    f.id?.runId ?? carried.get(f.path)?.run_id ?? -1,
    f.id !== undefined && runs.get(f.id.runId)?.token === f.id.runToken ? 1 : 0,
    f.id?.seq ?? -1,
    f.path,
  ];
  const sorted = files.map((f) => ({ f, k: key(f) }));
  sorted.sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || (a.k[3] < b.k[3] ? -1 : a.k[3] > b.k[3] ? 1 : 0));
  return new Map(sorted.map(({ f }, i) => [f.path, i + 1]));
}

/** A verified file's manifest row: live, or retired at `retiredAt`. */
function manifestRow(f: VerifiedFile, witness: ManifestFile | undefined, retiredAt: number | null): ManifestFileInput {
  return {
    table_name: f.table,
    path: f.path,
    partition: f.footer.partition,
    rows: f.footer.rows,
    min_time_ms: f.footer.minTimeMs,
    max_time_ms: f.footer.maxTimeMs,
    min_key: keyForManifest(f.minKey),
    max_key: keyForManifest(f.maxKey),
    bytes: f.bytes,
    hot_bytes: witness?.hot_bytes ?? null,
    checksum: f.footer.keyChecksum,
    file_sha256: f.sha256,
    schema_json: f.footer.schemaJson,
    state: retiredAt === null ? 'live' : 'retired',
    run_id: witness?.run_id ?? f.id?.runId ?? null,
    created_at_ms: witness?.created_at_ms ?? f.mtimeMs,
    visible_after_ms: null,
    retired_at_ms: retiredAt,
    // A live file its old row says was still draining keeps its prefix: the rows after it are not cold.
    drained_rows: retiredAt === null ? (witness?.drained_rows ?? null) : null,
  };
}

/**
 * `file` written again without `dropKeys`, through the maintenance swap's write
 * half (rewriteFiles: its sha256 checked, rows read, written to staging,
 * fsynced, read back by key checksum and a hash of every value, put into the
 * tree); the new file's manifest row (live).
 */
async function rewriteWithout(
  ctx: MaintenanceContext,
  engine: DuckDbEngine,
  t: ResolvedTable,
  file: VerifiedFile,
  witness: ManifestFile | undefined,
  dropKeys: readonly unknown[],
  o: { id: string; runId: number },
): Promise<ManifestFileInput> {
  const input: ManifestFile = { ...manifestRow(file, witness, null), id: -1, drained_rows: null };
  // Left out as delete markers leave theirs (the file's own markers too, each row once).
  const result = await rewriteFiles(ctx, { engine, table: t, inputs: [input], id: o.id, runId: o.runId, now: Date.now(), drop: new Map([[file.path, dropKeys]]) });
  const expected = file.footer.rows - result.markedRemoved;
  if (!result.output || result.markedRemoved < dropKeys.length || result.rowsOut !== expected) {
    if (result.output) await ctx.cold.delete(result.output.path);
    throw new ColdFileError(
      ctx.cold.describe(file.path),
      `rewriting ${file.path} without ${dropKeys.length} keys kept ${result.rowsOut} of its ${file.footer.rows} rows (${result.markedRemoved} left out), expected at most ${file.footer.rows - dropKeys.length}; nothing was committed`,
    );
  }
  return { ...result.output, retired_at_ms: null };
}

function fillTableReports(
  report: RebuildReport,
  tables: readonly ResolvedTable[],
  plans: readonly TablePlan[],
  rewrites: ReadonlyMap<string, readonly { from: VerifiedFile; row: ManifestFileInput | null; dropped: number }[]>,
  oldRows: readonly ManifestFile[],
  keepIds: ReadonlyMap<string, readonly number[]>,
  rowsOf: (table: string) => ManifestFileInput[],
): void {
  report.conflicts = plans.flatMap((p) => p.conflicts);
  report.rewritten = [...rewrites].flatMap(([table, ws]) => ws.map((w) => ({ table, from: w.from.path, to: w.row?.path ?? null, rows: w.from.footer.rows - w.dropped, droppedKeys: w.dropped })));
  report.tables = tables.map((t): RebuildTableReport => {
    const before = oldRows.filter((r) => r.table_name === t.table);
    const wasLive = new Set(before.filter((r) => r.state === 'live').map((r) => r.path));
    const kept = new Set(keepIds.get(t.table));
    const keptLive = before.filter((r) => kept.has(r.id) && r.state === 'live');
    const rows = rowsOf(t.table);
    const live = rows.filter((r) => r.state === 'live');
    const plannedRewrites = (rewrites.get(t.table) ?? []).filter((w) => w.row === null);
    return {
      table: t.table,
      liveFilesBefore: wasLive.size,
      liveFilesAfter: keptLive.length + live.length + plannedRewrites.length,
      liveRowsAfter: [...keptLive, ...live].reduce((a, r) => a + r.rows, 0) + plannedRewrites.reduce((a, w) => a + w.from.footer.rows - w.dropped, 0),
      added: live.filter((r) => !wasLive.has(r.path)).map((r) => r.path),
      retired: rows.filter((r) => r.state === 'retired').map((r) => r.path),
    };
  });
}

function finish(report: RebuildReport, started: number): RebuildReport {
  const ended = Date.now();
  report.endedAt = new Date(ended).toISOString();
  report.durationMs = ended - started;
  return report;
}
