#!/usr/bin/env node
// The tierdb CLI, from the built package (dist/). In a clone, `npm install` builds it (prepare).
await import('../dist/cli/main.js');
