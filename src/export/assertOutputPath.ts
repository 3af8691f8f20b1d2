/**
 * Where a command may write an output file (`export --out`): a new path, or
 * with `force` an existing regular file, which the finished temp file then
 * replaces by rename. Anything else — a folder, a device such as /dev/null, a
 * FIFO, a socket, a symbolic link — is refused naming the path, even with
 * `force`: a rename would replace it with a regular file (or fail), and tierdb
 * never removes or replaces what it did not write as a file.
 */
import { lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeFileKind } from '../describeFileKind.js';
import { ArgumentError, FileExistsError } from '../errors.js';

/** Throws unless `out` (absolute) is a new path in an existing folder, or a regular file and `force`. */
export function assertOutputPath(out: string, force: boolean, flag = '--out'): void {
  const st = lstatSync(out, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    throw new ArgumentError(
      `${flag} ${out} is ${describeFileKind(st)}, not a regular file: it is never removed or replaced (not even with --force); name a new file path` +
        (st.isSymbolicLink() ? ' or the file the link points to' : ''),
    );
  }
  if (st && !force) throw new FileExistsError(out, `${flag} ${out} already exists; pass --force to replace it`);
  const dir = path.dirname(out);
  const parent = statSync(dir, { throwIfNoEntry: false });
  if (!parent) throw new ArgumentError(`${flag} ${out}: the folder ${dir} does not exist`);
  if (!parent.isDirectory()) throw new ArgumentError(`${flag} ${out}: ${dir} is not a folder`);
}
