/**
 * Shared benchmark helpers: timing, percentiles, and writing
 * bench/results/<name>.json. Figures are ratios against the raw engines
 * measured in the same run, because this machine is shared and noisy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_DIR = path.resolve(import.meta.dirname, 'results');
export const BENCH_DATA_DIR = path.resolve(import.meta.dirname, 'data');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs fn `runs` times and returns p50/p99 in milliseconds. */
export async function timeRuns(runs: number, fn: () => unknown): Promise<{ p50: number; p99: number; samples: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), samples: runs };
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Writes the result JSON and prints it. */
export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const payload = {
    benchmark: name,
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    ...result,
  };
  writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  process.stdout.write(JSON.stringify(payload, null, 2) + '\n');
  return file;
}
