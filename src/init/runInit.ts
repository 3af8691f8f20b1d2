/**
 * `tierdb init` as a library call: inspect an existing SQLite file (read-only),
 * suggest a registry, plan the first archive with it, and write the registry
 * file. The database is never changed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FileExistsError } from '../errors.js';
import { inspectOpenDatabase, openReadOnly, type InspectOptions } from './inspectDatabase.js';
import { planInit, type InitPlan } from './planInit.js';
import { registryFormatOf, renderRegistry, type RegistryFormat } from './renderRegistry.js';
import { writeRegistryFile } from './writeRegistryFile.js';

/** Where init writes the registry unless told otherwise (plain JS: loads in any Node without a loader). */
export const DEFAULT_REGISTRY_FILE = 'tierdb.config.mjs';

export interface RunInitOptions extends InspectOptions {
  /** The existing SQLite file. */
  hotPath: string;
  /** The registry file to write; default DEFAULT_REGISTRY_FILE in the working folder. `false`: write nothing. */
  out?: string | false;
  /** Replace an existing `out`. */
  force?: boolean;
  /** The hotDays to suggest and plan with; default 30. */
  hotDays?: number;
  /** The command shown in the file's header as the way to try it. */
  usage?: string;
}

export interface InitReport {
  plan: InitPlan;
  /** The registry file written (absolute), or undefined when `out: false`. */
  out?: string;
  format: RegistryFormat;
  /** The registry module's text. */
  text: string;
}

/**
 * Inspects `hotPath`, writes a registry suggesting how to tier each table, and
 * reports what the first archive would move. Refuses an existing `out` unless
 * `force`.
 *
 * @example
 * const { plan, out } = await runInit({ hotPath: 'app.db', hotDays: 30 });
 */
export async function runInit(options: RunInitOptions): Promise<InitReport> {
  const out = options.out === false ? undefined : path.resolve(options.out ?? DEFAULT_REGISTRY_FILE);
  // Fail before the (possibly long) inspection; writeRegistryFile checks again without a race.
  if (out !== undefined && existsSync(out) && !options.force) {
    throw new FileExistsError(out, `${out} already exists; tierdb init never overwrites a registry: pass --force to replace it, or --out <file> to write another`);
  }
  const raw = openReadOnly(options.hotPath);
  let plan: InitPlan;
  try {
    const facts = inspectOpenDatabase(raw, path.resolve(options.hotPath), options);
    plan = await planInit(raw, facts, { ...(options.hotDays !== undefined ? { hotDays: options.hotDays } : {}), now: Date.parse(facts.now) });
  } finally {
    raw.close();
  }
  const format = registryFormatOf(out ?? DEFAULT_REGISTRY_FILE);
  const text = renderRegistry(plan, { format, ...(options.usage ? { usage: options.usage } : {}) });
  if (out !== undefined) writeRegistryFile(out, text, { force: options.force ?? false });
  return { plan, ...(out !== undefined ? { out } : {}), format, text };
}
