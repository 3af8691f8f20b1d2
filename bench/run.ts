/**
 * `npm run bench [-- name ...]`: runs the named benchmarks (all when none).
 * Each lives in bench/<name>.ts and exports `run()`.
 */
const ALL = ['ingest', 'archive', 'query', 'rebuild', 'object', 'lifecycle', 'change', 'iceberg'] as const;

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : [...ALL];
for (const name of names) {
  if (!(ALL as readonly string[]).includes(name)) {
    process.stderr.write(`unknown benchmark ${JSON.stringify(name)}; expected one of ${ALL.join(', ')}\n`);
    process.exit(2);
  }
}
for (const name of names) {
  const mod = (await import(`./${name}.ts`)) as { run: () => Promise<void> };
  await mod.run();
}
