import { execFileSync } from 'node:child_process';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { entries } from '../tsup.config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const VENDOR = /node_modules[\\/](openai|@azure|@aws-sdk|@smithy|ioredis|pg|better-sqlite3)[\\/]/;

export async function measureBundles(): Promise<{ lines: string[]; coreKb: number; vendorLoaded: string[] }> {
  const lines: string[] = [];

  const probe =
    `const t=performance.now();require(${JSON.stringify(join(root, 'dist/index.cjs'))});const ms=performance.now()-t;` +
    `console.log(JSON.stringify({ms,loaded:Object.keys(require.cache).filter(p=>${VENDOR}.test(p))}))`;
  const samples = Array.from(
    { length: 5 },
    () =>
      JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' })) as {
        ms: number;
        loaded: string[];
      },
  );
  const importMs = samples.map((s) => s.ms).sort((a, b) => a - b)[2]!;
  const vendorLoaded = [...new Set(samples.flatMap((s) => s.loaded))];
  lines.push(
    `require('cloudhop') median ${importMs.toFixed(1)} ms; vendor modules loaded: ${vendorLoaded.length === 0 ? 'none' : vendorLoaded.join(', ')}`,
  );
  // ESM has no require.cache to list; what it loads at once is the static imports below.
  const esmProbe = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(join(root, 'dist/index.js')).href)});console.log(performance.now()-t)`;
  const esmMs = Array.from({ length: 5 }, () =>
    Number(execFileSync(process.execPath, ['--input-type=module', '-e', esmProbe], { encoding: 'utf8' })),
  ).sort((a, b) => a - b)[2]!;
  lines.push(`import('cloudhop') median ${esmMs.toFixed(1)} ms`);

  let coreKb = 0;
  let staticImports: string[] = [];
  for (const name of Object.keys(entries)) {
    if (name === 'cli') continue;
    const result = await build({
      entryPoints: [join(root, `dist/${name}.js`)],
      bundle: true,
      minify: true,
      write: false,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const kb = result.outputFiles[0]!.contents.byteLength / 1024;
    if (name === 'index') {
      coreKb = kb;
      // What `import 'cloudhop'` loads at once: the bundle's static imports of packages.
      const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
      staticImports = [
        ...new Set(
          imports
            .filter((i) => i.external && i.kind === 'import-statement' && !isBuiltin(i.path))
            .map((i) => i.path),
        ),
      ];
    }
    lines.push(
      `${`cloudhop${name === 'index' ? '' : `/${name}`}`.padEnd(26)} ${kb.toFixed(1)} KB minified (dependencies external)`,
    );
  }
  lines.splice(2, 0, `import 'cloudhop' static imports: ${staticImports.join(', ') || 'none'}`);
  const vendorStatic = staticImports.filter((s) => !/^zod(\/|$)/.test(s));
  return { lines, coreKb, vendorLoaded: [...vendorLoaded, ...vendorStatic] };
}
