import { defineConfig } from 'tsup';

export const entries = {
  index: 'src/index.ts',
  azure: 'src/azure.ts',
  openai: 'src/openai.ts',
  aws: 'src/aws.ts',
  'ai-sdk': 'src/ai-sdk.ts',
  testing: 'src/testing/index.ts',
  emulator: 'src/emulator/index.ts',
  'stores/sqlite': 'src/stores/sqlite.ts',
  'stores/redis': 'src/stores/redis.ts',
  'stores/postgres': 'src/stores/postgres.ts',
  cli: 'src/cli/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  // One shared chunk for core in both formats, so `CloudhopError` is the same class from every subpath.
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
});
