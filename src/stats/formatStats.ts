/**
 * Turns TierStats into the text table `tierdb stats` and `tierdb demo` print.
 */
import type { TierStats } from './collectStats.js';

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** ISO time to "2026-01-05 12:34:56" (UTC), or "-" when absent. */
function formatTime(iso: string | null): string {
  if (iso === null) return '-';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
}

/** Lays out rows as aligned columns; `right` marks the columns aligned right (numbers). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * The stats as a readable table, one line per registered table; cold columns
 * appear once the archiver reports them.
 */
export function formatStats(stats: TierStats): string {
  const withCold = stats.tables.some((t) => t.cold.files > 0 || t.cold.pendingFiles > 0);
  const header = ['table', 'hot rows', 'oldest (UTC)', 'newest (UTC)', 'hot bytes', 'data', 'indexes'];
  if (withCold) header.push('cold rows', 'files', 'cold bytes', 'ratio', 'oldest day', 'newest day');
  header.push('hot_days (from)');
  const rows = stats.tables.map((t) => {
    const cells = [
      t.enabled ? t.table : `${t.table} (disabled)`,
      formatCount(t.hot.rows),
      formatTime(t.hot.oldest),
      formatTime(t.hot.newest),
      formatBytes(t.hot.bytes),
      formatBytes(t.hot.tableBytes),
      formatBytes(t.hot.indexBytes),
    ];
    if (withCold) {
      const c = t.cold;
      cells.push(
        formatCount(c.rows),
        formatCount(c.files) + (c.pendingFiles > 0 ? ` (+${c.pendingFiles} pending)` : '') + (c.drainingFiles > 0 ? ` (${c.drainingFiles} draining)` : ''),
        formatBytes(c.bytes),
        c.compressionRatio === null ? '-' : `${c.compressionRatio.toFixed(1)}x`,
        c.oldest ?? '-',
        c.newest ?? '-',
      );
    }
    cells.push(`${t.hotDays} (${t.hotDaysFrom})`);
    return cells;
  });
  const right = new Set([1, 4, 5, 6, 7, 8, 9, 10]);
  const { hot } = stats;
  const lines = [
    `hot file ${hot.path}: ${formatBytes(hot.fileBytes)} (WAL ${formatBytes(hot.walBytes)}, free pages ${formatBytes(hot.freeBytes)})` +
      (hot.bytesMethod === 'estimate' ? ' — table sizes estimated (no dbstat)' : ''),
  ];
  if (stats.cold.files > 0) lines.push(`cold: ${formatCount(stats.cold.files)} files, ${formatBytes(stats.cold.bytes)}`);
  if (stats.lastRun) {
    const r = stats.lastRun;
    lines.push(
      `last archive run #${r.id}: ${r.status}, started ${formatTime(r.startedAt)}` +
        (r.durationMs === null ? '' : `, ${(r.durationMs / 1000).toFixed(1)}s`) +
        (r.error ? ` — ${r.error}` : ''),
    );
  }
  lines.push('', formatTable(header, rows, right));
  return lines.join('\n');
}
