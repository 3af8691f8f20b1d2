/**
 * Folders a test file builds once — a seeded, archived or crashed store as a template that each test copies — and
 * removes in its afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class TemplateFolders {
  readonly #dirs: string[] = [];

  /** A new folder under the OS temp folder (`prefix` + random), removed by removeAll. */
  make(prefix: string): string {
    return this.adopt(mkdtempSync(path.join(tmpdir(), prefix)));
  }

  /** A folder made elsewhere (a template bucket's server folder), removed by removeAll too. */
  adopt(dir: string): string {
    this.#dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const d of this.#dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
