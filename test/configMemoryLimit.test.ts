/**
 * Issue 7 item 10: a DUCKDB_MEMORY_LIMIT DuckDB cannot work with (0MB, 1B,
 * 0%) stops at config load with an error naming the value and the minimum,
 * never as a DuckDB stack trace at the first query.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { runCli } from './archiveFixtures.js';
import { tempDir } from './helpers.js';

const load = (value: string) => loadConfig({ env: { DUCKDB_MEMORY_LIMIT: value }, envFile: false });

describe('DUCKDB_MEMORY_LIMIT', () => {
  it.each(['0MB', '1B', '0%', '0.5%', '15MB', '15MiB', '0 GB', '0.01GB'])('refuses %s at load, naming the value and the minimum', (value) => {
    expect(() => load(value)).toThrow(ConfigError);
    expect(() => load(value)).toThrow(`DUCKDB_MEMORY_LIMIT=${JSON.stringify(value)} is invalid: expected a size of at least 16MB`);
    expect(() => load(value)).toThrow('at least 1%');
  });

  it.each(['16MB', '1%', '512MB', '1.5GiB', '2GB', '80%', '100%', '16000000B'])('accepts %s', (value) => {
    expect(load(value).duckdbMemoryLimit).toBe(value);
  });

  it('the CLI exits 1 with the message, no stack trace', async () => {
    const dir = tempDir();
    for (const value of ['0MB', '1B', '0%']) {
      const r = await runCli(['--data-dir', dir, 'sql', 'SELECT 1'], { DUCKDB_MEMORY_LIMIT: value });
      expect(r.code, value).toBe(1);
      expect(r.stderr).toContain(`DUCKDB_MEMORY_LIMIT=${JSON.stringify(value)} is invalid`);
      expect(r.stderr, 'a stack trace').not.toMatch(/\n\s+at /);
    }
  });
});
