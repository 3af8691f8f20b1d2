import type { Command } from 'commander';
import { registerMigrate } from './migrate.js';
import { registerIngest } from './ingest.js';
import { registerDemo } from './demo.js';
import { registerStats } from './stats.js';
import { registerArchive } from './archive.js';
import { registerServe } from './serve.js';
import { registerValidate } from './validate.js';
import { registerQuery } from './query.js';
import { registerSql } from './sql.js';
import { registerExplain } from './explain.js';
import { registerExport } from './export.js';
import { registerInit } from './init.js';
import { registerCompact } from './compact.js';
import { registerRestore } from './restore.js';
import { registerRebuildManifest } from './rebuildManifest.js';
import { registerMigrateCold } from './migrateCold.js';
import { registerChange } from './change.js';
import { registerPublish } from './publish.js';

/** Every subcommand; each file registers one. */
export const commands: ((program: Command) => void)[] = [registerMigrate, registerInit, registerIngest, registerDemo, registerStats, registerArchive, registerServe, registerValidate, registerQuery, registerSql, registerExplain, registerExport, registerCompact, registerRestore, registerRebuildManifest, registerMigrateCold, registerChange, registerPublish];
