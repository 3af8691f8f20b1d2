/**
 * `tierdb delete`, `tierdb update`, `tierdb erase`: thin over store.delete,
 * store.update and store.erase, with the same --where/--since/--until filters
 * as `tierdb query`.
 */
import type { Command } from 'commander';
import type { ChangeResult } from '../../change/changeRows.js';
import type { EraseReceipt } from '../../change/eraseRows.js';
import { ArgumentError } from '../../errors.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { addFilterOptions, buildQueryOptions, whereValue, type FilterOptions } from '../filterOptions.js';

interface ChangeCliOptions extends FilterOptions {
  table: string;
  all?: boolean;
  json?: boolean;
  set?: string[];
  setNull?: string[];
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function formatChange(verb: string, table: string, r: ChangeResult): string {
  return `${verb} ${r.hot + r.cold} rows of ${table}: ${r.hot} hot, ${r.cold} cold (masked by delete markers; compaction removes them from the files)`;
}

export function formatEraseReceipt(r: EraseReceipt): string {
  const lines = [
    `${r.dryRun ? 'erase dry run' : `erase run ${r.runId} (receipt ${r.id}, ${r.status})`}: ${r.table}, ${r.durationMs} ms`,
    `  predicate: ${JSON.stringify(r.predicate)}`,
    `  ${r.dryRun ? 'would erase' : 'erased'} ${r.hotRows} hot rows, ${r.coldRows} cold rows${r.dryRun ? '' : `; WAL truncated: ${r.walTruncated ? 'yes' : 'no (a reader held it: run erase again)'}`}`,
  ];
  for (const f of r.files) {
    lines.push(`  ${f.oldPath} (sha256 ${f.oldSha256 ?? '-'}) -> ${f.newPath === null ? '(removed: no row left)' : `${f.newPath} (sha256 ${f.newSha256})`}, ${f.rowsErased} rows erased`);
  }
  for (const b of r.backups) lines.push(`  backup ${b.path}: ${b.rowsErased} rows erased, sha256 ${b.sha256}`);
  lines.push(`  started ${r.startedAt}, ended ${r.endedAt}`);
  return lines.join('\n');
}

function setValues(t: { columns: readonly { name: string; declaredType?: string }[] }, opts: ChangeCliOptions): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  const declared = new Map(t.columns.map((c) => [c.name, c.declaredType]));
  for (const item of opts.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ArgumentError(`--set ${JSON.stringify(item)}: expected col=value`);
    const column = item.slice(0, eq).trim();
    if (column in set) throw new ArgumentError(`--set: ${column} is given twice`);
    set[column] = whereValue(item.slice(eq + 1), declared.get(column));
  }
  for (const column of opts.setNull ?? []) {
    if (column in set) throw new ArgumentError(`--set-null: ${column} is given twice`);
    set[column] = null;
  }
  return set;
}

function register(program: Command, name: 'delete' | 'update' | 'erase', description: string): Command {
  const cmd = program.command(name).description(description).requiredOption('--table <name>', 'the registered table');
  addFilterOptions(cmd, false).option('--all', 'allow a filter that selects every row of the table').option('--json', 'print the result as JSON');
  return cmd;
}

export function registerChange(program: Command): void {
  register(program, 'delete', 'delete the rows the filter selects, hot or cold (cold rows hidden at once by delete markers)').action(async (opts: ChangeCliOptions, cmd: Command) => {
    const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>());
    try {
      const { where } = buildQueryOptions(store.table(opts.table), opts);
      const result = await store.delete(opts.table, { where, all: opts.all ?? false });
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatChange('deleted', opts.table, result)}\n`);
    } finally {
      await store.close();
    }
  });
  register(program, 'update', 'set new values on the rows the filter selects, hot or cold (a cold row becomes hot with its new values)')
    .option('--set <col=value>', 'a new value, repeatable; typed by the column as in --where', collect, [])
    .option('--set-null <col>', 'set a column to NULL, repeatable', collect, [])
    .action(async (opts: ChangeCliOptions, cmd: Command) => {
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>());
      try {
        const t = store.table(opts.table);
        const { where } = buildQueryOptions(t, opts);
        const result = await store.update(opts.table, { where, set: setValues(t, opts), all: opts.all ?? false });
        process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatChange('updated', opts.table, result)}\n`);
      } finally {
        await store.close();
      }
    });
  register(program, 'erase', 'erase the rows the filter selects physically (hot file, WAL, backups, cold files) and print a receipt')
    .option('--dry-run', 'report what would be erased; change nothing')
    .action(async (opts: ChangeCliOptions, cmd: Command) => {
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>(), undefined, { readonly: opts.dryRun ?? false });
      try {
        const { where } = buildQueryOptions(store.table(opts.table), opts);
        const receipt = await store.erase(opts.table, { where, all: opts.all ?? false, dryRun: opts.dryRun ?? false });
        process.stdout.write(opts.json ? `${JSON.stringify(receipt, null, 2)}\n` : `${formatEraseReceipt(receipt)}\n`);
      } finally {
        await store.close();
      }
    });
}
