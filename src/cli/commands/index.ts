import type { Command } from 'commander';
import { registerMigrate } from './migrate.js';

/** Every subcommand; each file registers one. */
export const commands: ((program: Command) => void)[] = [registerMigrate];
