/**
 * Registries load anywhere: named, or found in the working folder; `.mjs`/`.js`
 * natively, `.ts` through jiti; a module that fails to load is named with its cause.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../src/errors.js';
import { findRegistryModule, loadRegistryModule } from '../src/registry/loadRegistryModule.js';
import { runCli } from './archiveFixtures.js';
import { tempDir } from './helpers.js';

describe('registry modules', () => {
  it('finds tierdb.config.{ts,mjs,js} in the working folder, a named module first', () => {
    const dir = tempDir();
    expect(findRegistryModule(undefined, dir)).toBeUndefined();
    writeFileSync(path.join(dir, 'tierdb.config.js'), 'export default [];');
    expect(findRegistryModule(undefined, dir)).toBe(path.join(dir, 'tierdb.config.js'));
    writeFileSync(path.join(dir, 'tierdb.config.mjs'), 'export default [];');
    expect(findRegistryModule(undefined, dir)).toBe(path.join(dir, 'tierdb.config.mjs'));
    writeFileSync(path.join(dir, 'tierdb.config.ts'), 'export default [];');
    expect(findRegistryModule(undefined, dir)).toBe(path.join(dir, 'tierdb.config.ts'));
    expect(findRegistryModule('elsewhere/reg.mjs', dir)).toBe(path.join(dir, 'elsewhere/reg.mjs'));
  });

  it('loads .mjs natively and .ts (with types and imports) through jiti', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.mjs'), `export default [{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 3 }];`);
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', 'days.ts'), `export const days: number = 9;`);
    writeFileSync(
      path.join(dir, 'b.ts'),
      `import { days } from './lib/days.js';\ninterface E { table: string; timeColumn: string; timeUnit: 'iso'; hotDays: number }\nconst e: E = { table: 'logs', timeColumn: 'at', timeUnit: 'iso', hotDays: days };\nexport default [e];`,
    );
    expect(await loadRegistryModule(path.join(dir, 'a.mjs'))).toEqual([{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 3 }]);
    expect(await loadRegistryModule(path.join(dir, 'b.ts'))).toEqual([{ table: 'logs', timeColumn: 'at', timeUnit: 'iso', hotDays: 9 }]);
  });

  it('names the file and the cause: missing, syntax error, throws, no default export, wrong default', async () => {
    const dir = tempDir();
    const cases: [string, string, RegExp][] = [
      // jiti's parse error, with the line and column of the bad token.
      ['syntax.ts', 'const a = 1;\nexport default [\n  { table: "x" timeColumn: "t" },\n];', /cannot load the registry module (\S+)syntax\.ts: ParseError: Unexpected token.* \(at \1syntax\.ts:3:15\)$/],
      // Under vitest, import() goes through vite (its own parse message); the CLI test below sees Node's.
      ['syntax.mjs', 'export default [ { table: "x" ', /cannot load the registry module .*syntax\.mjs: \S/],
      ['throws.mjs', 'throw new Error("boom at load");', /cannot load the registry module .*throws\.mjs: boom at load$/],
      ['badimport.ts', 'import { days } from "./nowhere.js";\nexport default [days];', /cannot load the registry module .*badimport\.ts: Cannot find module '\.\/nowhere\.js'/],
      ['badpackage.mjs', 'import x from "no-such-package-tierdb";\nexport default x;', /cannot load the registry module .*badpackage\.mjs: Cannot find package 'no-such-package-tierdb'/],
      ['nodefault.mjs', 'export const x = 1;', /nodefault\.mjs has no default export/],
      // jiti answers .default with the whole module when there is none: still "no default export".
      ['nodefault.ts', 'export const x: number = 1;', /nodefault\.ts has no default export/],
      ['throws.ts', 'const at: string = "load";\nthrow new Error(`boom at ${at}`);', /cannot load the registry module .*throws\.ts: boom at load/],
      ['wrong.mjs', 'export default 42;', /wrong\.mjs: its default export is number/],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(path.join(dir, name), text);
      const error = await loadRegistryModule(path.join(dir, name)).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(RegistryError);
      expect((error as Error).message, name).toMatch(message);
    }
    await expect(loadRegistryModule(path.join(dir, 'missing.mjs'))).rejects.toThrow(/missing\.mjs does not exist/);
  });

  it('the CLI reports a broken registry by file and cause, without a stack trace', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.ts'), 'export default [ { table: "x" ');
    writeFileSync(path.join(dir, 'bad.mjs'), 'export default [ { table: "x" ');
    const cases: [string, RegExp][] = [
      ['bad.ts', /: ParseError: Unexpected token.* \(at \S+bad\.ts:1:30\)$/],
      ['bad.mjs', /: SyntaxError: Unexpected end of input$/],
    ];
    for (const [name, cause] of cases) {
      const r = await runCli(['--data-dir', dir, '--registry', path.join(dir, name), 'migrate']);
      expect(r.code, name).toBe(1);
      const [line, ...rest] = r.stderr.trim().split('\n');
      expect(line, name).toMatch(new RegExp(`^tierdb: cannot load the registry module ${path.join(dir, name).replaceAll('.', '\\.')}: .+`));
      expect(line, name).toMatch(cause);
      expect(rest, name).toEqual([]);
    }
  });

  it('demo brings its own registry: naming one for it is refused, not silently ignored', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'app.mjs'), `export default [{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 3 }];`);
    const r = await runCli(['--data-dir', dir, '--registry', path.join(dir, 'app.mjs'), 'demo', '--rows', '100', '--days', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tierdb: demo uses its own registry (the demo tables); drop --registry ${path.join(dir, 'app.mjs')}`);
    expect(existsSync(path.join(dir, 'hot.db'))).toBe(false);
  });
});
