/**
 * store.erase: the rows a filter selects made physically gone, with a receipt.
 * Runs inside a maintenance run (the archiver lease, a run of kind `erase`):
 *
 *   1. find the matching rows (findMatches, masked ones too: a row deleted or
 *      updated earlier is still in its file until rewritten) and every cold
 *      copy of a matching hot key;
 *   2. rewrite the cold files holding any of them without those rows
 *      (rewriteFiles, the rows left out as delete markers leave theirs: read
 *      back and verified, put beside, unlisted) — small ones merged as
 *      compaction would, when it is enabled (eraseUnits); a grace file
 *      (pending, its rows still hot) that may hold one is retired whole;
 *   3. rewrite the hot-file backups without the rows (scrubSqliteFile);
 *   4. one transaction (commitSwap): the hot rows deleted with secure_delete,
 *      the old files retired (their markers dropped), the new ones listed,
 *      the receipt stored (`committed`), the manifest version bumped;
 *   5. after TIERDB_ERASE_GRACE_SECONDS (queries that listed the old files
 *      finish), the old files unlinked and their manifest rows deleted;
 *   6. the hot file vacuumed and its WAL truncated; the receipt `complete`.
 *
 * A crash before 4 changes nothing a reader sees (unlisted files are the
 * run's leftovers, recovery removes them). After 4 the old files are retired
 * with a retirement time set back so that recovery unlinks them once the
 * erase grace has passed, and the next erase finishes what is left:
 * finishErasures.
 */
import type Database from 'better-sqlite3';
import { keyText } from '../archive/chunkKeys.js';
import { failpoint } from '../archive/failpoint.js';
import { fileId } from '../cold/coldLayout.js';
import { ManifestChangedError } from '../errors.js';
import { completeErasure, insertErasure, listErasures, type ErasedFile, type ScrubbedBackup } from '../manifest/erasureReceipts.js';
import { deleteManifestFile, listFiles, liveFilesExact, type ManifestFile, type NewManifestFile } from '../manifest/manifestFiles.js';
import { coldKeyCandidates, type ColdKey } from '../cold/coldKeyCandidates.js';
import { commitSwap } from '../maintenance/commitSwap.js';
import type { MaintenanceRun } from '../maintenance/maintenanceRun.js';
import { planCompaction } from '../maintenance/planCompaction.js';
import { rewriteFiles } from '../maintenance/rewriteFiles.js';
import type { QueryOptions } from '../query/QueryOptions.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { findMatches, matchingHotKeysNow } from './findMatches.js';
import { assertNotEveryRow } from './changeRows.js';
import { hashPredicate } from './hashPredicate.js';
import { snapshotsReferencing } from '../manifest/icebergState.js';
import { scrubBackups, secureDelete, vacuumAndTruncateWal } from './scrubSqliteFile.js';

export interface EraseOptions {
  /** The same where-language as `bridge.query`; an empty filter is refused unless `all: true`. */
  where?: QueryOptions['where'];
  all?: boolean;
  /** Find and report, change nothing. */
  dryRun?: boolean;
}

/** What an erase did: printed, and stored in `_tierdb_erasures` (never the erased values). */
export interface EraseReceipt {
  /** The `_tierdb_erasures` row (null for a dry run). */
  id: number | null;
  table: string;
  runId: number | null;
  dryRun: boolean;
  /** The filter with every value as `sha256:<hex>` of its text. */
  predicate: unknown;
  /** Hot rows erased. */
  hotRows: number;
  /** Cold rows erased that readers saw (masked copies of earlier deletes and updates go too; see files[].rowsErased). */
  coldRows: number;
  files: ErasedFile[];
  backups: ScrubbedBackup[];
  /** `complete`: old files unlinked, hot file vacuumed and its WAL truncated. */
  status: 'dry-run' | 'committed' | 'complete';
  walTruncated: boolean;
  startedAt: string;
  endedAt: string;
  durationMs: number;
}

/**
 * Receipts a crash left `committed`: recovery (at the start of this run)
 * unlinks their old files once the erase grace has passed (their retirement
 * time was set back for that) and deletes their manifest rows; a receipt whose
 * old files are all gone gets the hot file vacuumed and becomes `complete`.
 */
export async function finishErasures(run: MaintenanceRun): Promise<number> {
  const raw = run.ctx.raw;
  let finished = 0;
  const listed = raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE path IN (SELECT value FROM json_each(?))`).pluck();
  for (const receipt of listErasures(raw, 'committed')) {
    if (Number(listed.get(JSON.stringify(receipt.files.map((f) => f.oldPath)))) > 0) continue;
    await vacuumAndTruncateWal(raw);
    completeErasure(raw, receipt.id, Date.now());
    finished++;
  }
  return finished;
}

/**
 * The affected files as rewrite units, each becoming one file: small files
 * merged as compaction would merge them (when it is enabled: same year, the
 * target size; fewer, larger files, and one verified rewrite instead of one
 * per day), the others one by one.
 */
function eraseUnits(inputs: readonly ManifestFile[], config: MaintenanceRun['ctx']['config']): ManifestFile[][] {
  const groups = config.compactEnabled ? planCompaction(inputs, { targetBytes: config.compactTargetBytes, minFiles: 2 }) : [];
  const grouped = new Set(groups.flat());
  return [...groups, ...inputs.filter((f) => !grouped.has(f)).map((f) => [f])];
}

/**
 * `onCommitted` runs right after the swap committed, before the old files are
 * unlinked: the Iceberg publish that expires every snapshot listing them.
 * A file some kept Iceberg snapshot still lists is not unlinked here (the
 * receipt stays `committed`; recovery unlinks it once that snapshot expired).
 */
export async function eraseRows(
  run: MaintenanceRun | undefined,
  reader: { raw: Database.Database; cold: MaintenanceRun['ctx']['cold']; engine: MaintenanceRun['engine'] },
  t: ResolvedTable,
  o: EraseOptions,
  nextSeq: () => number,
  onCommitted?: () => Promise<void>,
): Promise<EraseReceipt> {
  const started = Date.now();
  const { raw } = reader;
  const predicate = hashPredicate(o.where ?? {});
  const m = await findMatches({ raw, cold: reader.cold, engine: reader.engine }, t, o.where, { withValues: false, includeMasked: true });
  assertNotEveryRow(raw, t, 'erase', o, m.hotKeys.length + m.cold.length);
  // Every cold row holding an erased key's values: matches, masked matches, and the copies of matching hot keys.
  const byPath = new Map<string, Map<string, unknown>>();
  for (const x of [...m.cold, ...m.masked, ...m.shadowed]) {
    let keys = byPath.get(x.path);
    if (!keys) byPath.set(x.path, (keys = new Map()));
    keys.set(keyText(x.key), x.key);
  }
  const live = new Map(liveFilesExact(raw, t.table).map((f) => [f.path, f]));
  const inputs = [...byPath.keys()].map((p) => live.get(p)).filter((f): f is ManifestFile => f !== undefined);
  const receipt: EraseReceipt = {
    id: null,
    table: t.table,
    runId: run?.runId ?? null,
    dryRun: run === undefined,
    predicate,
    hotRows: m.hotKeys.length,
    coldRows: m.cold.length,
    files: inputs.map((f) => ({ oldPath: f.path, oldSha256: f.file_sha256, newPath: null, newSha256: null, rowsErased: byPath.get(f.path)!.size })),
    backups: [],
    status: 'dry-run',
    walTruncated: false,
    startedAt: new Date(started).toISOString(),
    endedAt: '',
    durationMs: 0,
  };
  const done = () => ({ ...receipt, endedAt: new Date().toISOString(), durationMs: Date.now() - started });
  if (!run) return done();

  const outputs: NewManifestFile[] = [];
  let marksThrough = Number.POSITIVE_INFINITY;
  const entries = new Map(receipt.files.map((e) => [e.oldPath, e]));
  try {
    // Each unit's files rewritten into one, without the erased rows (left out as delete markers leave theirs).
    for (const unit of eraseUnits(inputs, run.ctx.config)) {
      const result = await rewriteFiles(run.ctx, {
        engine: run.engine,
        table: t,
        inputs: unit,
        id: fileId(run.runId, nextSeq(), run.runToken),
        runId: run.runId,
        now: started,
        drop: new Map(unit.map((f) => [f.path, [...byPath.get(f.path)!.values()]])),
      });
      marksThrough = Math.min(marksThrough, result.marksThrough);
      if (result.output) outputs.push(result.output);
      for (const f of unit) {
        const entry = entries.get(f.path)!;
        entry.newPath = result.output?.path ?? null;
        entry.newSha256 = result.output?.file_sha256 ?? null;
      }
    }
    receipt.backups = await scrubBackups(run.ctx.config.dataDir, t.table, m.query.conditions);
    failpoint('erase-after-backups');
  } catch (error) {
    for (const out of outputs) await run.ctx.cold.delete(out.path);
    throw error;
  }

  // Grace files (ARCHIVE_GRACE_HOURS) are copies of rows still hot: one that may hold a matching
  // row goes with the old files (its rows stay hot; a later run writes them again without the erased ones).
  const hotCandidates = new Set(coldKeyCandidates(raw, t.table, m.hotKeys.filter((k): k is ColdKey => typeof k === 'bigint' || typeof k === 'string')).keys());
  const pending = listFiles(raw, t.table, ['pending']).filter((f) => hotCandidates.has(f.path));
  for (const f of pending) receipt.files.push({ oldPath: f.path, oldSha256: f.file_sha256, newPath: null, newSha256: null, rowsErased: 0 });
  // Set back so that recovery, after a crash, unlinks them once the erase grace (not the general one) has passed.
  const retiredAt = Date.now() - run.ctx.config.retiredGraceMs + run.ctx.config.eraseGraceMs;
  await commitSwap(run.ctx, inputs, outputs, marksThrough, () => {
    if (matchingHotKeysNow(raw, t, m).unseenWithColdCopies) {
      // A matching hot row came since the scan whose key is inside a cold file's range: its cold copies were not looked up.
      throw new ManifestChangedError(`${t.table}: rows matching the filter were written while the erase ran; nothing was erased, run it again`);
    }
    const erased = secureDelete(raw, t.table, m.query.conditions);
    receipt.hotRows = erased;
    receipt.id = insertErasure(raw, { table: t.table, runId: run.runId, predicate, hotRows: erased, coldRows: m.cold.length, files: receipt.files, backups: receipt.backups, startedAtMs: started });
    const retirePending = raw.prepare(`UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE id = ? AND state = 'pending'`);
    for (const f of pending) {
      if (retirePending.run(retiredAt, f.id).changes !== 1) throw new ManifestChangedError(`${f.path} is no longer pending; nothing was erased, run it again`);
    }
  }, retiredAt);
  receipt.status = 'committed';
  await onCommitted?.();

  // Queries that listed the old files may still read them for the erase grace; then they go.
  if (inputs.length > 0 && run.ctx.config.eraseGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, run.ctx.config.eraseGraceMs));
  const listedByIceberg = snapshotsReferencing(raw, [...inputs, ...pending].map((f) => f.path));
  for (const f of [...inputs, ...pending]) {
    if (listedByIceberg.has(f.path)) continue;
    await run.ctx.cold.delete(f.path);
    deleteManifestFile(raw, f.id);
  }
  if (listedByIceberg.size > 0) return done();
  failpoint('erase-after-unlink');
  receipt.walTruncated = await vacuumAndTruncateWal(raw);
  failpoint('erase-after-vacuum');
  completeErasure(raw, receipt.id!, Date.now());
  receipt.status = 'complete';
  return done();
}
