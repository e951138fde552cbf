import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * The root lockfile installs one `openai` major, but the peer range promises the next one too.
 * `CLOUDHOP_TEST_OPENAI=<folder>` makes every `openai` / `openai/...` import (tests and src alike)
 * resolve from test/compat/<folder>, which has its own lockfile, as if the package were imported
 * from there. test/packaging/openai-version.test.ts fails when the switch did not take effect.
 */
function openaiFromCompatFolder(folder: string | undefined): Plugin[] {
  if (!folder) return [];
  const dir = fileURLToPath(new URL(`./test/compat/${folder}/`, import.meta.url));
  if (!existsSync(`${dir}node_modules/openai/package.json`)) {
    throw new Error(
      `CLOUDHOP_TEST_OPENAI=${folder}: test/compat/${folder} has no openai installed; run \`npm ci --prefix test/compat/${folder}\` first.`,
    );
  }
  const importerInsideFolder = `${dir}package.json`;
  return [
    {
      name: 'cloudhop:openai-from-compat-folder',
      enforce: 'pre',
      resolveId(source, _importer, options) {
        if (source !== 'openai' && !source.startsWith('openai/')) return null;
        return this.resolve(source, importerInsideFolder, { ...options, skipSelf: true });
      },
    },
  ];
}

export default defineConfig({
  plugins: openaiFromCompatFolder(process.env.CLOUDHOP_TEST_OPENAI),
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
