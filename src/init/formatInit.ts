/**
 * The text `tierdb init` prints: per table the facts and suggestion, the
 * problems found, what `archive --dry-run` would move and the hot size after.
 */
import { formatBytes, formatCount, formatTable } from '../stats/formatStats.js';
import type { InitReport } from './runInit.js';
import type { ReclaimForecast, TableSuggestion } from './planInit.js';

const RECLAIM: Record<ReclaimForecast, string> = {
  incremental: 'incremental auto-vacuum gives the space back after the run',
  auto: 'auto_vacuum=FULL gives the space back at each commit',
  vacuum:
    "auto_vacuum is off: the first run VACUUMs once (needs free disk about the file's size; app writers wait for it) and switches the file to incremental auto-vacuum",
  reuse: 'auto_vacuum is off and under 20% of the file is freed: the file keeps its size, and new rows reuse the freed pages',
  nothing: 'nothing would move yet',
};

function timeCell(t: TableSuggestion): string {
  const c = t.facts.timeColumn;
  if (!c) return '-';
  return `${c.column} ${c.unit} ${Math.round((c.matched / Math.max(c.sampled, 1)) * 100)}% ${c.confidence}`;
}

function keyCell(t: TableSuggestion): string {
  const k = t.facts.key;
  if (!k) return '-';
  return `${k.column}${k.source === 'primary key' ? ' (pk)' : ' (unique)'}${k.needsAppAssignsKeys ? ' rowid!' : ''}`;
}

function moveCell(t: TableSuggestion): string {
  const d = t.dryRun;
  if (!d) return 'not tiered (see problems)';
  if (d.error !== undefined) {
    const w = d.withAppAssignsKeys;
    return w
      ? `refused until appAssignsKeys is decided (with it: ${formatCount(w.rows)} rows, ${w.partitions} partitions)`
      : `refused: ${d.error}`;
  }
  if (d.rows === 0) return 'nothing yet';
  const span = d.first === d.last ? d.first : `${d.first} … ${d.last}`;
  return `${formatCount(d.rows)} rows, ${d.partitions} ${t.entry?.partition === 'month' ? 'month' : 'day'} partitions (${span})`;
}

/** The report as readable text. */
export function formatInit(report: InitReport): string {
  const { plan } = report;
  const lines: string[] = [];
  lines.push(
    `${plan.hotPath}: ${formatBytes(plan.fileBytes)}, ${plan.tables.length} tables (bytes from ${plan.bytesMethod === 'dbstat' ? 'dbstat: table + indexes' : 'an estimate: sampled row sizes × rows, indexes not counted'}); now ${plan.now}`,
    '',
  );
  const header = ['table', 'rows', 'bytes', 'time column (unit, share, confidence)', 'key', '<7d', '7–30d', '30–90d', '90–365d', '>365d', 'no time'];
  const rows = plan.tables.map((t) => {
    const b = t.facts.ageBuckets;
    const buckets = b ? [...b.counts.map(formatCount), formatCount(b.noTime)] : ['', '', '', '', '', ''];
    return [t.table, formatCount(t.facts.rows), formatBytes(t.facts.bytes), timeCell(t), keyCell(t), ...buckets];
  });
  lines.push(formatTable(header, rows, new Set([1, 2, 5, 6, 7, 8, 9, 10])), '');

  const problems = plan.tables.flatMap((t) => [
    ...(t.skip !== undefined ? [`${t.table}: not tiered — ${t.skip}`] : []),
    ...(t.facts.key?.needsAppAssignsKeys
      ? [`${t.table}: ${t.facts.key.column} is an INTEGER PRIMARY KEY without AUTOINCREMENT; archive refuses the table until appAssignsKeys: true is set (only if the app sets every ${t.facts.key.column} itself)`]
      : []),
    ...t.facts.problems.map((p) => `${t.table}: ${p}`),
    ...(t.dryRun?.refused ?? []).map((r) => `${t.table}: ${r}`),
  ]);
  if (problems.length > 0) lines.push('problems', ...problems.map((p) => `  ${p}`), '');

  const cutoff = plan.tables.find((t) => t.dryRun)?.dryRun?.cutoff;
  lines.push(`archive --dry-run with hotDays ${plan.hotDays}${cutoff ? ` (rows before the partition of ${cutoff.slice(0, 10)} move)` : ''}`);
  const moveRows = plan.tables.map((t) => [t.table, moveCell(t), t.dryRun ? `${formatBytes(t.hotBytes)} → ${formatBytes(t.hotBytesAfter)}` : '']);
  lines.push(formatTable(['table', 'would move', 'hot bytes now → after'], moveRows, new Set()), '');
  lines.push(`hot file: ${formatBytes(plan.fileBytes)} → about ${formatBytes(plan.fileBytesAfter)} (${RECLAIM[plan.reclaim]})`);

  const tiered = plan.tables.filter((t) => t.entry).length;
  if (report.out !== undefined) {
    lines.push(`wrote ${report.out}: ${tiered} table${tiered === 1 ? '' : 's'} to tier, ${plan.tables.length - tiered} listed commented out with the reason`);
  }
  if (plan.journalMode.toLowerCase() !== 'wal') {
    lines.push(`note: the database is in ${plan.journalMode} mode; the first tierdb open switches it to WAL (persistent), which the app's connections then use too`);
  }
  return lines.join('\n');
}
