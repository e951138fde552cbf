import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { entries } from '../tsup.config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const VENDOR = /node_modules[\\/](openai|@azure|@aws-sdk|@smithy|ioredis|pg|better-sqlite3)[\\/]/;

/** Every bare import of an ESM file and of the chunks it imports, walked from dist/index.js. */
function bareImports(file: string, seen = new Set<string>()): Set<string> {
  const found = new Set<string>();
  if (seen.has(file)) return found;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(
    /(?:import|export)\s*(?:[^'"]*?from\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = match[1] ?? match[2]!;
    const dynamic = match[2] !== undefined;
    if (spec.startsWith('.')) {
      if (!dynamic) for (const s of bareImports(join(dirname(file), spec), seen)) found.add(s);
    } else if (!dynamic) found.add(spec);
  }
  return found;
}

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
  const staticImports = [...bareImports(join(root, 'dist/index.js'))].filter((s) => !isBuiltin(s));
  const vendorStatic = staticImports.filter((s) => !/^zod(\/|$)/.test(s));
  lines.push(
    `require('cloudhop') median ${importMs.toFixed(1)} ms; vendor modules loaded: ${vendorLoaded.length === 0 ? 'none' : vendorLoaded.join(', ')}`,
  );
  lines.push(`import 'cloudhop' static imports: ${staticImports.join(', ') || 'none'}`);

  let coreKb = 0;
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
      logLevel: 'silent',
    });
    const kb = result.outputFiles[0]!.contents.byteLength / 1024;
    if (name === 'index') coreKb = kb;
    lines.push(
      `${`cloudhop${name === 'index' ? '' : `/${name}`}`.padEnd(26)} ${kb.toFixed(1)} KB minified (dependencies external)`,
    );
  }
  return { lines, coreKb, vendorLoaded: [...vendorLoaded, ...vendorStatic] };
}
