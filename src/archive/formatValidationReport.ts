/**
 * `tierdb validate`'s text output: a summary line, then every damaged or
 * missing file with what it means for its rows and how to get them back,
 * every duplicate key group, files without a whole-file checksum, and
 * (a warning) files in the cold tree the manifest does not list.
 */
import type { ValidationReport } from './validateColdFiles.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatValidationReport(report: ValidationReport): string {
  const problems = report.problems.length + report.duplicateKeys.length;
  const lines = [`checked ${report.filesChecked} files, ${report.rowsChecked} rows: ${problems === 0 ? 'all good' : `${problems} problems`}`];
  if (report.problems.length > 0) {
    lines.push(`${plural(report.problems.length, 'damaged or missing file')}:`);
    for (const p of report.problems) {
      lines.push(`  ${p.table} ${p.path}: ${p.problem}`);
      lines.push(`    ${p.recovery}`);
    }
  }
  for (const d of report.duplicateKeys) {
    const where = d.kind === 'cold' ? 'stored in more than one place in live cold files (queries return such a row more than once)' : 'both hot and in a live cold file (queries show the hot row; the cold copy is a stale second copy)';
    lines.push(
      `${d.table}: ${plural(d.count, 'key')} of ${d.keyColumn} ${where}, e.g. ${d.examples.join(', ')}; files:`,
      ...d.files.map((f) => `  ${f}`),
    );
  }
  if (report.withoutChecksum.length > 0) {
    lines.push(
      `note: ${plural(report.withoutChecksum.length, 'file has', 'files have')} no whole-file checksum (written before file_sha256); ` +
        'only their footer, row count and keys were checked, so a changed value elsewhere in them would go unnoticed:',
      ...report.withoutChecksum.map((f) => `  ${f}`),
    );
  }
  if (report.unlisted.length > 0) {
    lines.push(
      `warning: ${plural(report.unlisted.length, 'file')} in the cold tree ${report.unlisted.length === 1 ? 'is' : 'are'} not listed in the manifest: ` +
        'readers never see them (recovery leaves files it cannot prove are its own); move them away once you know what they are:',
      ...report.unlisted.map((f) => `  ${f}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
