/**
 * Where a command may write an output file (`export --out`): a new path, or
 * with `force` an existing regular file, which the finished temp file then
 * replaces by rename. Anything else — a folder, a device such as /dev/null, a
 * FIFO, a socket, a symbolic link — is refused naming the path, even with
 * `force`: a rename would replace it with a regular file (or fail), and tierdb
 * never removes or replaces what it did not write as a file.
 */
import { lstatSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ArgumentError, FileExistsError } from '../errors.js';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws unless `out` (absolute) is a new path in an existing folder, or a regular file and `force`. */
export function assertOutputPath(out: string, force: boolean, flag = '--out'): void {
  const st = lstatSync(out, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    throw new ArgumentError(
      `${flag} ${out} is ${kindOf(st)}, not a regular file: it is never removed or replaced (not even with --force); name a new file path` +
        (st.isSymbolicLink() ? ' or the file the link points to' : ''),
    );
  }
  if (st && !force) throw new FileExistsError(out, `${flag} ${out} already exists; pass --force to replace it`);
  const dir = path.dirname(out);
  const parent = statSync(dir, { throwIfNoEntry: false });
  if (!parent) throw new ArgumentError(`${flag} ${out}: the folder ${dir} does not exist`);
  if (!parent.isDirectory()) throw new ArgumentError(`${flag} ${out}: ${dir} is not a folder`);
}
