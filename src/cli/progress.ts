/**
 * Progress bars for long work, on a TTY only (cli-progress); elsewhere nothing,
 * so logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(done: number, label?: string): void;
  stop(): void;
}

const silent: Progress = { start() {}, update() {}, stop() {} };

export function createProgress(enabled = Boolean(process.stderr.isTTY)): Progress {
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total, label) {
      if (started) bar.stop();
      bar.start(total, 0, { label });
      started = true;
    },
    update(done, label) {
      if (started) bar.update(done, label === undefined ? {} : { label });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
