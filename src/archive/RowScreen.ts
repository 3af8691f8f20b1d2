import type { PartitionSpan } from '../cold/coldLayout.js';
import type { ArchiveContext } from './ArchiveContext.js';
import type { TableReport } from './ArchiveReport.js';
import type { TableShape } from './TableShape.js';
import { isCanonicalUtcIso, valueToMs } from '../registry/timeUnit.js';

/** Rows of one chunk that stay hot for one reason (plain data: it crosses from the archive worker thread). */
export interface RowRefusal {
  partition: string;
  /** What the report and the log say: how many rows, why, the first keys. */
  message: string;
  rows: number;
}

/** Refusals into `report.refused` and the log (on the thread that owns the report). */
export function reportRowRefusals(ctx: Pick<ArchiveContext, 'logger'>, table: string, refusals: readonly RowRefusal[], report: TableReport): void {
  for (const r of refusals) {
    report.refused.push({ partition: r.partition, reason: r.message });
    ctx.logger.warn({ table, partition: r.partition, rows: r.rows }, r.message);
  }
}

/**
 * Tells the rows of a chunk that can move from those that must stay hot: a
 * NULL or BLOB key, or a time that is not a canonical value of the table's unit
 * (ISO text with a non-UTC offset, say) refuses that row only. `take` hands the
 * refusals over, one per reason (reportRowRefusals puts them in the report).
 */
export class RowScreen {
  readonly #s: TableShape;
  readonly #refused = new Map<string, unknown[]>();

  constructor(s: TableShape) {
    this.#s = s;
  }

  /** Whether `row` can move; a refused row's key is kept for the report. */
  admits(row: readonly unknown[]): boolean {
    const s = this.#s;
    const unit = s.t.timeUnit;
    const key = row[s.keyIndex];
    const time = row[s.timeIndex];
    let reason: string | undefined;
    if (key === null || key === undefined) reason = `${s.t.keyColumn} is NULL`;
    else if (typeof key !== 'bigint' && typeof key !== 'number' && typeof key !== 'string') reason = `${s.t.keyColumn} is a BLOB (keys must be INTEGER, REAL or TEXT)`;
    else if (unit === 'iso' ? !isCanonicalUtcIso(time) : Number.isNaN(valueToMs(time, unit))) {
      reason =
        unit === 'iso'
          ? `${s.t.timeColumn} is not UTC ISO-8601 text (a date, a time, then Z, +00:00 or nothing): rewrite it in UTC`
          : `${s.t.timeColumn} is not a ${unit} time`;
    }
    if (reason === undefined) return true;
    const keys = this.#refused.get(reason) ?? [];
    keys.push(key);
    this.#refused.set(reason, keys);
    return false;
  }

  /** The refusals seen so far, one per reason; the screen starts empty again. */
  take(span: PartitionSpan): RowRefusal[] {
    const s = this.#s;
    const out: RowRefusal[] = [];
    for (const [reason, keys] of this.#refused) {
      const shown = keys.slice(0, 3).map((k) => (k === null ? 'NULL' : String(k)));
      const message = `${keys.length} row(s) of ${s.t.table} stay hot: ${reason} (${s.t.keyColumn} ${shown.join(', ')}${keys.length > 3 ? ', …' : ''})`;
      out.push({ partition: span.key, message, rows: keys.length });
    }
    this.#refused.clear();
    return out;
  }
}
