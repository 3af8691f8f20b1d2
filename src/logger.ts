/**
 * The library logs nothing unless given a logger. The CLI and the daemon hand
 * each subsystem a pino child logger.
 */
import pino from 'pino';

/** The subset of pino's API tierdb uses; any pino logger fits. */
export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** A logger that drops everything: the library default. */
export const noopLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
};

/** A pino logger for the CLI: JSON to stderr, pretty when stderr is a TTY. */
export function createCliLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return pino({ level }, pino.destination(2));
}
