import { defineConfig } from 'drizzle-kit';

/** The demo application's schema -> migrations/app. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/presets/wechat/schema.ts',
  out: './migrations/app',
});
