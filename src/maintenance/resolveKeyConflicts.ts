/**
 * One table's verified files, and which of their keys lose: a key that is hot
 * loses in every file (the hot row wins); a key in several files loses in all
 * but the file of the newest run (the highest rank). Of a file its old
 * manifest row says was still draining, only the drained prefix counts. The keys are gathered in
 * DuckDB (bounded memory, spills), never in JS; hot keys are read with
 * safeIntegers, so 64-bit keys compare exactly.
 *
 * A file none of whose keys lose is listed as it is; one all of whose keys
 * lose is retired; one with some is rewritten without them (rewriteFiles).
 */
import type Database from 'better-sqlite3';
import { compareKeys } from '../archive/chunkKeys.js';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString, type DuckDbEngine, readColdParquet } from '../cold/DuckDbEngine.js';
import { appendRows } from '../query/appendRows.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { hotKeyPages, KeyFingerprint, type KeyRange } from './hotKeysInRange.js';
import type { RebuildConflict } from './RebuildReport.js';
import type { VerifiedFile } from './verifyColdFile.js';

/** A verified file with its local path (from the ColdStore) and its rank: higher wins a shared key. */
export interface RankedFile {
  readonly file: VerifiedFile;
  readonly local: string;
  readonly rank: number;
  /**
   * Its old manifest row's drained prefix, when that row says it was still draining (a run killed
   * mid-drain): only its rows before it are cold; null: every row.
   */
  readonly drainedRows?: number | null;
}

export interface TablePlan {
  table: string;
  /** Listed as they are (a draining file with its drained prefix: the next archive run finishes its drain). */
  keep: VerifiedFile[];
  /** Every key lost: listed `retired`. */
  retire: VerifiedFile[];
  /**
   * Some keys lost: rewritten without `dropKeys` (bigint for INTEGER keys); the original is retired.
   * A draining file's rows after its prefix are among them: the rewrite holds only cold rows.
   */
  rewrite: { file: VerifiedFile; local: string; dropKeys: unknown[] }[];
  /** Per losing file and winner; `outcome` as decided here. */
  conflicts: RebuildConflict[];
  /** The key range the hot keys were read in, and their fingerprint (the commit checks it is unchanged). */
  hotRange: KeyRange | null;
  hotFingerprint: string;
}

const EXAMPLES = 5;

/**
 * Resolves one table's files (`files` in any order; ranks distinct).
 *
 * @example
 * const plan = await resolveKeyConflicts(engine, raw, table, ranked);
 * for (const r of plan.rewrite) console.log(`${r.file.path}: ${r.dropKeys.length} keys lost`);
 */
export async function resolveKeyConflicts(engine: DuckDbEngine, raw: Database.Database, t: ResolvedTable, files: readonly RankedFile[]): Promise<TablePlan> {
  const plan: TablePlan = { table: t.table, keep: [], retire: [], rewrite: [], conflicts: [], hotRange: null, hotFingerprint: '' };
  if (files.length === 0) return plan;
  const con = engine.connection;
  const keyType: ColdType = files[0]!.file.footer.schema.find((c) => c.name === t.keyColumn)?.type ?? 'VARCHAR';
  let min = files[0]!.file.minKey;
  let max = files[0]!.file.maxKey;
  for (const { file } of files) {
    if (compareKeys(file.minKey, min) < 0) min = file.minKey;
    if (compareKeys(file.maxKey, max) > 0) max = file.maxKey;
  }
  plan.hotRange = { min, max };
  try {
    await con.run('CREATE OR REPLACE TEMP TABLE __rb_files (f INTEGER, rnk INTEGER, src VARCHAR, drained BIGINT)');
    await con.run(`INSERT INTO __rb_files VALUES ${files.map((r, i) => `(${i}, ${r.rank}, ${sqlString(r.local)}, ${r.drainedRows ?? 'NULL'})`).join(', ')}`);
    // A draining file's rows after its prefix are not cold (still hot, or deleted by the app before the drain
    // reached them): they take part in no conflict, and a rewrite of the file leaves them out.
    await con.run(
      `CREATE OR REPLACE TEMP TABLE __rb_all AS
       SELECT p.k, fl.f, fl.drained IS NOT NULL AND p.file_row_number >= fl.drained AS undrained FROM (
         SELECT ${sqlIdent(t.keyColumn)} AS k, __rb_src, file_row_number FROM ${readColdParquet(files.map((r) => r.local), `filename = '__rb_src'`, 'file_row_number = true', 'union_by_name = true')}
       ) p JOIN __rb_files fl ON fl.src = p.__rb_src;
       CREATE OR REPLACE TEMP TABLE __rb_keys AS SELECT k, f FROM __rb_all WHERE NOT undrained`,
    );
    await con.run(`CREATE OR REPLACE TEMP TABLE __rb_hot (k ${keyType})`);
    const fp = new KeyFingerprint();
    for (const page of hotKeyPages(raw, t.table, t.keyColumn, plan.hotRange)) {
      fp.add(page);
      await appendRows(
        con,
        '__rb_hot',
        [keyType],
        page.map((k) => [k]),
      );
    }
    plan.hotFingerprint = fp.digest();
    await con.run(
      `CREATE OR REPLACE TEMP TABLE __rb_lost AS
       WITH r AS (SELECT k.k, k.f, fl.rnk FROM __rb_keys k JOIN __rb_files fl USING (f)),
            top AS (SELECT k, max(rnk) AS top FROM r GROUP BY k)
       SELECT r.k, r.f, h.k IS NOT NULL AS by_hot, CASE WHEN h.k IS NULL THEN w.f END AS winner
       FROM r JOIN top ON top.k = r.k
       LEFT JOIN (SELECT DISTINCT k FROM __rb_hot) h ON h.k = r.k
       LEFT JOIN __rb_files w ON w.rnk = top.top
       WHERE h.k IS NOT NULL OR r.rnk < top.top`,
    );
    const groups = (await con.runAndReadAll('SELECT f, by_hot, winner, count(*) AS n FROM __rb_lost GROUP BY ALL ORDER BY f, by_hot DESC, winner')).getRows();
    const examples = new Map<string, string[]>();
    for (const [f, byHot, winner, k] of (
      await con.runAndReadAll(
        `SELECT f, by_hot, winner, CAST(k AS VARCHAR) FROM (
           SELECT *, row_number() OVER (PARTITION BY f, by_hot, winner ORDER BY k) AS rn FROM __rb_lost
         ) WHERE rn <= ${EXAMPLES} ORDER BY f, by_hot, winner, rn`,
      )
    ).getRows()) {
      const group = `${String(f)}/${String(byHot)}/${String(winner)}`;
      examples.set(group, [...(examples.get(group) ?? []), String(k)]);
    }
    const lostPerFile = new Map<number, number>();
    for (const [f, , , n] of groups) lostPerFile.set(Number(f), (lostPerFile.get(Number(f)) ?? 0) + Number(n));
    for (const [i, r] of files.entries()) {
      const lost = lostPerFile.get(i) ?? 0;
      const undrained = r.drainedRows == null ? 0 : r.file.footer.rows - Math.min(r.drainedRows, r.file.footer.rows);
      if (lost === 0) plan.keep.push(r.file);
      else if (lost + undrained >= r.file.footer.rows) plan.retire.push(r.file);
      else {
        const dropKeys = (await con.runAndReadAll(`SELECT k FROM __rb_lost WHERE f = ${i} UNION ALL SELECT k FROM __rb_all WHERE f = ${i} AND undrained`)).getRows().map((row) => row[0]);
        plan.rewrite.push({ file: r.file, local: r.local, dropKeys });
      }
    }
    for (const [f, byHot, winner, n] of groups) {
      const loser = files[Number(f)]!.file;
      plan.conflicts.push({
        table: t.table,
        kind: byHot === true ? 'hot-and-cold' : 'cold',
        keys: Number(n),
        examples: examples.get(`${String(f)}/${String(byHot)}/${String(winner)}`) ?? [],
        file: loser.path,
        winner: byHot === true ? 'hot' : files[Number(winner)]!.file.path,
        outcome: plan.retire.includes(loser) ? 'retired' : 'rewritten',
      });
    }
  } finally {
    await con.run('DROP TABLE IF EXISTS __rb_files; DROP TABLE IF EXISTS __rb_all; DROP TABLE IF EXISTS __rb_keys; DROP TABLE IF EXISTS __rb_hot; DROP TABLE IF EXISTS __rb_lost');
  }
  return plan;
}
