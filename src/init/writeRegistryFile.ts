/**
 * Writes the registry `tierdb init` made: under a temp name, fsynced, then
 * linked into place (which fails when the file exists, so nothing is ever
 * overwritten by a race) or, with `force`, renamed over it.
 */
import { closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { durableRename, fsyncDir } from '../cold/fsyncFile.js';
import { ArgumentError, FileExistsError } from '../errors.js';

export function writeRegistryFile(file: string, text: string, options: { force?: boolean } = {}): void {
  const out = path.resolve(file);
  const dir = path.dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ArgumentError(`cannot write ${out}: the folder ${dir} does not exist`);
  const refuse = (): FileExistsError =>
    new FileExistsError(out, `${out} already exists; tierdb init never overwrites a registry: pass --force to replace it, or --out <file> to write another`);
  if (existsSync(out) && !options.force) throw refuse();
  const tmp = path.join(dir, `.${path.basename(out)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.force) durableRename(tmp, out);
    else {
      try {
        linkSync(tmp, out);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw refuse();
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
        // No hard links on this file system: an exclusive copy still never replaces a file.
        try {
          copyFileSync(tmp, out, constants.COPYFILE_EXCL);
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') throw refuse();
          throw copyError;
        }
      }
      unlinkSync(tmp);
      fsyncDir(dir);
    }
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
}
