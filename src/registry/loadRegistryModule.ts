/**
 * Finds and imports a registry module. `.js`/`.mjs` load natively; a `.ts`
 * registry loads through jiti, imported only for that file, so the library's
 * own import path carries no TypeScript loader.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError } from '../errors.js';
import type { RegistryDefinition } from './defineRegistry.js';

/** Looked for in the working folder, in this order, when no registry is named. */
export const REGISTRY_FILE_NAMES = ['tierdb.config.ts', 'tierdb.config.mjs', 'tierdb.config.js', 'archive-registry.ts'] as const;

/**
 * The registry module to load: the one named (`--registry`, `TIERDB_REGISTRY`),
 * else the first of REGISTRY_FILE_NAMES in `cwd`; undefined when there is none.
 */
export function findRegistryModule(named: string | undefined, cwd = process.cwd()): string | undefined {
  if (named !== undefined && named.trim() !== '') return path.resolve(cwd, named);
  for (const name of REGISTRY_FILE_NAMES) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Imports a registry module's default export; every failure names the file and the cause. */
export async function loadRegistryModule(file: string): Promise<RegistryDefinition> {
  if (!existsSync(file)) {
    throw new RegistryError(`registry module ${file} does not exist (name one with --registry or TIERDB_REGISTRY, or create tierdb.config.mjs; \`tierdb init\` writes one)`);
  }
  if (!statSync(file).isFile()) throw new RegistryError(`registry module ${file} is not a file`);
  let mod: object;
  try {
    if (/\.[cm]?ts$/.test(file)) {
      const { createJiti } = await import('jiti');
      mod = (await createJiti(import.meta.url, { moduleCache: false }).import(file)) as object;
    } else {
      mod = (await import(pathToFileURL(file).href)) as object;
    }
  } catch (cause) {
    throw new RegistryError(`cannot load the registry module ${file}: ${describeLoadError(cause)}`, { cause });
  }
  // jiti answers `.default` with the whole module when there is none, so ask for the own property;
  // a CommonJS .cts whose module.exports is the registry comes back as that value itself.
  const definition = Object.hasOwn(mod, 'default')
    ? (mod as { default: unknown }).default
    : Array.isArray(mod) || typeof mod === 'function'
      ? mod
      : undefined;
  if (definition === undefined) {
    throw new RegistryError(`registry module ${file} has no default export (use export default [ ... ] or export default defineRegistry([ ... ]))`);
  }
  if (!Array.isArray(definition) && typeof definition !== 'function') {
    throw new RegistryError(`registry module ${file}: its default export is ${typeof definition}; expected an array of entries or a function of the config`);
  }
  return definition as RegistryDefinition;
}

/**
 * One line for why a module did not load: the error's kind when it says more than
 * `Error` (`SyntaxError: Unexpected end of input`), its first line, and the
 * `file:line:column` jiti puts on a later line of a parse error.
 */
function describeLoadError(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const lines = cause.message.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  let text = lines[0] ?? cause.name;
  if (cause.name !== 'Error' && !text.startsWith(cause.name)) text = `${cause.name}: ${text}`;
  const at = lines.slice(1).find((line) => /:\d+:\d+\)?$/.test(line));
  return at === undefined ? text : `${text} (at ${at.replace(/^at\s+/, '').replace(/^\((.*)\)$/, '$1')})`;
}
