import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * This repository has the AWS packages installed (as dev dependencies), an Azure-only app does
 * not: any attempt to resolve one fails the bundle, the way it fails in that app. A bundler
 * follows dynamic `import('…')` of a literal too, so a lazy import does not count as absent.
 */
const awsPackagesAbsent: Plugin = {
  name: 'aws-packages-absent',
  setup(bundler) {
    bundler.onResolve({ filter: /^@(aws-sdk|smithy)\// }, ({ path, importer }) => ({
      errors: [{ text: `Could not resolve "${path}" (imported by ${importer.replace(root, '')})` }],
    }));
  },
};

async function bundleErrors(entry: string): Promise<string[]> {
  try {
    await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      plugins: [awsPackagesAbsent],
    });
    return [];
  } catch (error) {
    return ((error as { errors?: { text: string }[] }).errors ?? [{ text: String(error) }]).map(
      (e) => e.text,
    );
  }
}

describe('an app that bundles cloudhop without any AWS package installed', () => {
  for (const [subpath, entry] of [
    ['cloudhop', 'src/index.ts'],
    ['cloudhop/azure', 'src/azure.ts'],
    ['cloudhop/openai', 'src/openai.ts'],
  ]) {
    it(`bundles ${subpath}`, async () => {
      expect(await bundleErrors(entry)).toEqual([]);
    });
  }

  it('cannot bundle cloudhop/aws, which needs them (the check above really detects them)', async () => {
    expect((await bundleErrors('src/aws.ts')).join('\n')).toMatch(/@smithy\/|@aws-sdk\//);
  });
});
