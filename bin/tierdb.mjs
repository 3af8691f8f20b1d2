#!/usr/bin/env node
// The tierdb CLI, from the built package (dist/). In a clone, `npm install` builds it (prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`tierdb: ${fileURLToPath(main)} is missing: tierdb is not built (in a clone: npm run build)\n`);
  process.exit(1);
}
await import(main.href);
