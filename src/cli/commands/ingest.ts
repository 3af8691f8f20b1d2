import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { TierError } from '../../errors.js';
import { ingestJsonl } from '../../presets/wechat/ingestJsonl.js';
import { wechatPreset } from '../../presets/wechat/wechatPreset.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';
import { createProgress } from '../progress.js';

interface IngestCliOptions {
  batchSize: number;
  restart?: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

/** The input must be a regular file (offsets are its checkpoint); checked before the store is opened or created. */
function assertIngestInput(file: string): void {
  const abs = path.resolve(file);
  const st = statSync(abs, { throwIfNoEntry: false });
  const problem = !st
    ? 'does not exist'
    : st.isDirectory()
      ? 'is a directory; give one JSONL file (one message object per line), e.g. one ingest per file of the folder'
      : !st.isFile()
        ? 'is not a regular file (ingest resumes from byte offsets, so it reads files, not pipes or devices)'
        : undefined;
  if (problem) throw new TierError('TIERDB_INGEST_INPUT', `ingest: ${abs} ${problem}`);
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('load a JSONL file of WeChat messages into the hot store (the wechat preset: creates its tables); resumes from its checkpoint, rejected lines go to <file>.rejects.jsonl')
    .argument('<file>', 'JSONL file, one message object per line')
    .option('--batch-size <n>', 'lines per transaction', positiveInt, 1000)
    .option('--restart', 'forget the checkpoint and the rejects file; start from the first line')
    .action(async (file: string, _opts: IngestCliOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & IngestCliOptions>();
      const ctx = cliContext(opts);
      assertIngestInput(file);
      // Message ingest is the WeChat preset's: its tables are created unless --no-migrations.
      const store = await openCliStore(opts, ctx, { preset: wechatPreset });
      const progress = createProgress();
      // Ctrl-C stops after the current batch; what is committed stays, a rerun resumes.
      const abort = new AbortController();
      const onSigint = (): void => abort.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      let started = false;
      try {
        const result = await ingestJsonl(store, file, {
          batchSize: opts.batchSize,
          ...(opts.restart ? { restart: true } : {}),
          signal: abort.signal,
          onProgress(done, total) {
            if (!started) {
              progress.start(total, 'ingest');
              started = true;
            }
            progress.update(done);
          },
        });
        progress.stop();
        ctx.logger.info(result, 'ingest done');
        process.stdout.write(JSON.stringify(result) + '\n');
      } catch (error) {
        progress.stop();
        if (abort.signal.aborted) {
          process.stderr.write('tierdb: ingest interrupted; committed batches are kept, run the same command again to resume\n');
          process.exitCode = 130;
          return;
        }
        throw error;
      } finally {
        process.removeListener('SIGINT', onSigint);
        await store.close();
      }
    });
}
