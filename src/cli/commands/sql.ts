import type { Command } from 'commander';
import { parseRowFormat, RowWriter } from '../../query/formatRows.js';
import { assertSqliteScanUsable } from '../../query/assertSqliteScanUsable.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';

interface SqlOptions {
  param: string[];
  textParams?: boolean;
  format: string;
}

/**
 * A `--param` text as the value it binds: an integer as a 64-bit integer
 * (bigint), a decimal as a double, anything else as text (`--text-params`: all as text).
 */
export function sqlParam(text: string, asText = false): bigint | number | string {
  if (asText) return text;
  if (/^[+-]?\d+$/.test(text)) return BigInt(text);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/** Rows `--format table` shows at most (it holds them all to align the columns). */
export const TABLE_ROW_LIMIT = 1000;

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('one read-only SQL statement over the unified tables (store.bridge.sql); writes are refused')
    .argument('<statement>', 'e.g. "SELECT status, count(*) FROM task_queue GROUP BY 1"')
    .option('--param <value>', 'a value bound to ? or $1, $2, … in order; repeatable; integers bind as BIGINT, decimals as DOUBLE, the rest as text', (v: string, prev: string[]) => [...prev, v], [])
    .option('--text-params', 'bind every --param as text')
    .option('--format <fmt>', `output: table (at most ${TABLE_ROW_LIMIT} rows), json, csv, ndjson (these stream any number of rows)`, 'table')
    .action(async (statement: string, opts: SqlOptions, command: Command) => {
      const format = parseRowFormat(opts.format, ['table', 'json', 'csv', 'ndjson']);
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ctx = cliContext(globals);
      // Checked before any better-sqlite3 handle on the hot file exists in this process.
      if (ctx.config.sqliteScan === 'isolated') await assertSqliteScanUsable();
      const store = await openCliStore(globals, ctx, { readonly: true });
      try {
        // Streamed (bridge.sqlStream): csv, ndjson and json hold one chunk at a time, whatever the result's size;
        // the table format needs every width first, so it shows at most TABLE_ROW_LIMIT rows.
        const writer = new RowWriter(process.stdout, format);
        let more = false;
        for await (const row of store.bridge.sqlStream(statement, opts.param.map((p) => sqlParam(p, opts.textParams)))) {
          if (format === 'table' && writer.rows >= TABLE_ROW_LIMIT) {
            more = true;
            break;
          }
          await writer.write(row);
        }
        await writer.end(more);
        if (more) {
          process.stderr.write(
            `tierdb: the table format shows only the first ${TABLE_ROW_LIMIT} rows, and the result has more; ` +
              'use --format csv (or ndjson, json) to stream every row, or add a LIMIT\n',
          );
        }
      } finally {
        await store.close();
      }
    });
}
