#!/usr/bin/env node
// Runs the TypeScript CLI straight from the source tree (tsx), so `npx tierdb`
// works in a clone without a build step and the registry can be a .ts file.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
