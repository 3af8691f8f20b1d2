/**
 * Shared benchmark helpers: timing, percentiles, and writing
 * bench/results/<name>.json. Figures are ratios against the raw engines
 * measured in the same run, because this machine is shared and noisy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The figures of bench/results/<name>.json without its header (benchmark, at, machine), or none: what a run of some sections keeps. */
export function previousResult(name: string): Record<string, unknown> {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return {};
  const { benchmark: _b, at: _a, machine: _m, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return rest;
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

export interface Timing {
  p50: number;
  p90: number;
  mean: number;
  runs: number;
}

export function summarize(ms: readonly number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p90: round(percentile(s, 90)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), runs: s.length };
}

/**
 * Times contenders over `runs` rounds, interleaved: the order rotates every
 * round, so the shared machine's noise falls on all of them alike. Returns the
 * samples (ms, in round order) of each.
 */
export async function race(
  runs: number,
  warmup: number,
  fns: Record<string, () => Promise<unknown> | unknown>,
  /** When given: filled with each contender's CPU ms per sample (the process's, DuckDB's threads included). */
  cpu?: Record<string, number[]>,
): Promise<Record<string, number[]>> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) if (cpu) cpu[n] = [];
  for (let i = 0; i < warmup + runs; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fns[name]!();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i >= warmup) {
        samples[name]!.push(ms);
        cpu?.[name]!.push((c.user + c.system) / 1000);
      }
    }
  }
  return samples;
}

export interface Ratio {
  /** p50(a) / p50(b): the figure held against a goal. */
  p50: number;
  p90: number;
  /** Median over rounds of a/b within the same round. */
  pairedMedian: number;
}

export function ratio(a: readonly number[], b: readonly number[]): Ratio {
  const sa = summarize(a);
  const sb = summarize(b);
  const paired = a.map((x, i) => x / b[i]!).sort((x, y) => x - y);
  return { p50: round(sa.p50 / sb.p50, 3), p90: round(sa.p90 / sb.p90, 3), pairedMedian: round(percentile(paired, 50), 3) };
}

/**
 * Peak RSS of this process in KiB: VmHWM from /proc/self/status, the high-water mark of this
 * process's own address space (maxRSS where /proc is missing). process.resourceUsage().maxRSS is
 * not used: on Linux a child spawned by libuv (fork/vfork, then exec) starts with its parent's
 * high-water mark, so a large parent inflates every child's figure.
 */
export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}
