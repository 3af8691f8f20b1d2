/**
 * The registry module `tierdb init` writes: a plain array of entries as the
 * default export, so it loads in any Node without a loader or an import of
 * tierdb (the store validates a plain array as `defineRegistry` would).
 * Tables that cannot tier as they are stay in the file, commented out, with
 * the reason.
 */
import path from 'node:path';
import type { InitPlan, SuggestedEntry, TableSuggestion } from './planInit.js';

export type RegistryFormat = 'js' | 'ts';

/** `ts` for a .ts/.mts/.cts file name, else `js`. */
export function registryFormatOf(file: string): RegistryFormat {
  return /\.[mc]?ts$/i.test(file) ? 'ts' : 'js';
}

export interface RenderOptions {
  format: RegistryFormat;
  /** The command that would use the file, shown in its header. */
  usage?: string;
}

const WIDTH = 110;
const ORDER: (keyof SuggestedEntry)[] = ['table', 'timeColumn', 'timeUnit', 'hotDays', 'primaryKey', 'partition', 'priority', 'batchSize', 'appAssignsKeys', 'enabled'];

/** A JS literal: single-quoted for plain names, JSON otherwise (escapes quotes and control characters). */
function literal(value: unknown): string {
  if (typeof value === 'string' && /^[\w .:+-]*$/.test(value)) return `'${value}'`;
  return JSON.stringify(value);
}

function objectLiteral(entry: Partial<SuggestedEntry>, placeholders = false): string {
  const fields: string[] = [];
  for (const k of ORDER) {
    const v = entry[k];
    if (v !== undefined) fields.push(`${k}: ${literal(v)}`);
    else if (placeholders && (k === 'timeColumn' || k === 'timeUnit')) fields.push(`${k}: '?'`);
  }
  return `{ ${fields.join(', ')} }`;
}

/** `// text` lines no wider than WIDTH; comment text never ends the comment early (no line breaks in it). */
function comment(text: string, indent: string): string[] {
  const words = text.replace(/[\r\n\u2028\u2029]+/g, ' ').split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && indent.length + 3 + line.length + 1 + w.length > WIDTH) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}// ${l}`);
}

function renderTable(t: TableSuggestion): string[] {
  const out: string[] = [];
  if (t.entry) {
    out.push(...t.notes.flatMap((n) => comment(n, '  ')));
    if (t.facts.key?.needsAppAssignsKeys) {
      out.push(`  ${objectLiteral(t.entry).slice(0, -2)},`, '    // appAssignsKeys: true,', '  },');
    } else out.push(`  ${objectLiteral(t.entry)},`);
  } else {
    out.push(...comment(`not tiered — ${t.table}: ${t.skip ?? ''}`, '  '));
    for (const p of t.facts.problems) out.push(...comment(p, '  '));
    out.push(`  // ${objectLiteral(t.draft ?? { table: t.table }, true)},`);
  }
  return out;
}

/** The registry module's text for `plan`. */
export function renderRegistry(plan: InitPlan, options: RenderOptions): string {
  const header = [
    ...comment(`Written by \`tierdb init\` from ${path.basename(plan.hotPath)} on ${plan.now} (hotDays ${plan.hotDays}).`, ''),
    ...comment('Review every entry: time columns, units and keys are guesses from the schema and a sample of values.', ''),
    ...(options.usage ? comment(`Try it: ${options.usage}`, '') : []),
    ...comment(
      "A plain array of entries: tierdb checks it when the store opens, as defineRegistry would; `export default defineRegistry([...])` (import { defineRegistry } from 'tierdb') works too.",
      '',
    ),
  ];
  const body = plan.tables.map(renderTable);
  const entries = body.flatMap((lines, i) => (i === 0 ? lines : ['', ...lines]));
  if (options.format === 'ts') {
    return [...header, "import type { RegistryEntryInput } from 'tierdb';", '', 'const registry: RegistryEntryInput[] = [', ...entries, '];', '', 'export default registry;', ''].join('\n');
  }
  return [...header, '', "/** @type {import('tierdb').RegistryEntryInput[]} */", 'export default [', ...entries, '];', ''].join('\n');
}
