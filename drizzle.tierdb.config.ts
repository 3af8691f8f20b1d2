import { defineConfig } from 'drizzle-kit';

/** tierdb's own `_tierdb_` tables -> migrations/tierdb. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/hot/tierdbSchema.ts',
  out: './migrations/tierdb',
});
