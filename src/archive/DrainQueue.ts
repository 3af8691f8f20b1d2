/**
 * The committed files of one table whose rows are being drained, one at a
 * time in commit order, in the background of the chunk pipeline: drainFile's
 * pauses between its short transactions are where the pipeline reads and
 * writes the next chunks (and where the app's writers take the write lock).
 * The pipeline waits (`waitBelow`) before it reads another chunk while too
 * many files are queued, so the rows held for comparison stay bounded.
 */
import type { ArchiveContext } from './ArchiveContext.js';
import { drainFile, type DrainJob, type DrainPacer, type DrainResult } from './drainFile.js';

export class DrainQueue {
  readonly #ctx: Pick<ArchiveContext, 'raw' | 'assertLease'>;
  readonly #pacer: DrainPacer;
  readonly #onDrained: (job: DrainJob, result: DrainResult) => void;
  readonly #jobs: DrainJob[] = [];
  #running: Promise<void> | undefined;
  #error: { error: unknown } | undefined;
  #waiters: (() => void)[] = [];

  constructor(ctx: Pick<ArchiveContext, 'raw' | 'assertLease'>, pacer: DrainPacer, onDrained: (job: DrainJob, result: DrainResult) => void) {
    this.#ctx = ctx;
    this.#pacer = pacer;
    this.#onDrained = onDrained;
  }

  /** Files queued or being drained. */
  get length(): number {
    return this.#jobs.length;
  }

  /** Throws the error a drain failed with, if any (the pipeline checks between steps). */
  check(): void {
    if (this.#error) throw this.#error.error;
  }

  push(job: DrainJob): void {
    this.check();
    this.#jobs.push(job);
    this.#running ??= this.#run();
  }

  /** Resolves once fewer than `n` files are queued (or a drain failed: then it throws). */
  async waitBelow(n: number): Promise<void> {
    while (this.#jobs.length >= n && !this.#error) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.check();
  }

  /** Every queued file drained; throws the first drain error. */
  async finish(): Promise<void> {
    if (this.#running) await this.#running;
    this.check();
  }

  async #run(): Promise<void> {
    try {
      while (this.#jobs.length > 0) {
        const job = this.#jobs[0]!;
        const result = await drainFile(this.#ctx, job, this.#pacer);
        this.#jobs.shift();
        this.#onDrained(job, result);
        this.#wake();
      }
    } catch (error) {
      // The files stay listed with their drained prefix: the next run's finishDrains goes on from there.
      this.#error = { error };
      this.#jobs.length = 0;
    } finally {
      this.#running = undefined;
      this.#wake();
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
