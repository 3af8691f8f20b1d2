/**
 * `tierdb rebuild-manifest`'s text output: a summary line, per table the live
 * files before and after, then every key held twice and who won, every file
 * rewritten, every manifest row whose file is missing or damaged, and every
 * file left unlisted with the reason.
 */
import type { RebuildReport } from './RebuildReport.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Lines shown per list; the rest is counted (`--json` has them all). */
const SHOWN = 20;

function capped<T>(items: readonly T[], line: (item: T) => string): string[] {
  const out = items.slice(0, SHOWN).map(line);
  if (items.length > SHOWN) out.push(`  … and ${items.length - SHOWN} more (--json lists them all)`);
  return out;
}

export function formatRebuildReport(report: RebuildReport): string {
  const verb = report.dryRun ? 'would list' : 'listed';
  const lines = [
    `${report.dryRun ? 'dry run' : `rebuild run ${report.runId}`}: ${plural(report.filesScanned, 'file')} in ${report.coldLocation}, ${report.filesVerified} verified, ` +
      `${report.durationMs} ms${report.dryRun ? ', nothing written' : `, manifest_version ${report.manifestVersionBefore} -> ${report.manifestVersionAfter}`}`,
  ];
  for (const t of report.tables) {
    if (t.liveFilesBefore === 0 && t.liveFilesAfter === 0 && t.retired.length === 0) continue;
    lines.push(
      `  ${t.table}: ${verb} ${plural(t.liveFilesAfter, 'live file')} (${t.liveRowsAfter} rows; ${t.liveFilesBefore} before), ` +
        `${t.added.length} newly listed, ${t.retired.length} retired`,
    );
  }
  if (report.runIdsReservedThrough !== null) lines.push(`  run ids moved past ${report.runIdsReservedThrough}, the highest in the tree: no later run reuses one`);
  if (report.conflicts.length > 0) {
    lines.push(`keys held twice (${report.dryRun ? 'would be ' : ''}resolved: the hot row wins, then the file of the newer run):`);
    lines.push(...capped(report.conflicts, (c) => `  ${c.table}: ${plural(c.keys, 'key')} of ${c.file} lost to ${c.winner} (e.g. ${c.examples.join(', ')}); the file is ${c.outcome}`));
  }
  lines.push(
    ...capped(report.rewritten, (r) => `  ${report.dryRun ? 'would rewrite' : 'rewrote'} ${r.from} without ${plural(r.droppedKeys, 'key')}: ${r.to ?? 'a new file'} ${report.dryRun ? 'would hold' : 'holds'} ${r.rows} rows`),
  );
  if (report.unverified.length > 0) {
    lines.push(`${plural(report.unverified.length, 'manifest row')} whose file is missing or fails verification:`);
    for (const u of report.unverified) {
      const action =
        u.action === 'dropped'
          ? u.state === 'pending'
            ? 'row dropped (a pending file: its rows are still hot)'
            : `row dropped: its ${u.rows} rows are gone from queries`
          : `row kept: queries that read its ${u.rows} rows fail naming it; restore the file and run rebuild-manifest again, or --drop-unverified`;
      lines.push(`  ${u.table} ${u.path}: ${u.problem}; ${action}`);
    }
  }
  if (report.problems.length > 0) {
    lines.push(`${plural(report.problems.length, 'file')} not listed (left in the tree, never deleted):`);
    lines.push(...capped(report.problems, (p) => `  ${p.path}: ${p.kind}: ${p.detail}`));
  }
  return `${lines.join('\n')}\n`;
}
