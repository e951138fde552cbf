import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';
import { expect } from 'vitest';
import type { EmulatorContext, EmulatorReply } from '../../src/emulator/index.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'scripts/beyond-node');

/** What the app of scripts/beyond-node/app.mjs reports per runtime. */
export interface RuntimeReport {
  runtimeId: string;
  answers: [string, string];
  streamed: string;
  toolCalls: string[];
  requestBytes: number;
}
export interface AppReport {
  runtimes: Record<'openaiChat' | 'openaiResponses' | 'azureChat' | 'azureResponses', RuntimeReport>;
  long: { text: string; ticks: number; requestBytes: number };
}

/**
 * Whether a runtime the tests need is here. When it is not, the tests are skipped with a printed
 * reason — unless CLOUDHOP_REQUIRE_SERVICES=1 (CI), where a missing runtime fails the run instead.
 */
export function runtimeAvailable(name: string, path: string, install = 'npm ci'): boolean {
  if (existsSync(path)) return true;
  const reason = `${name} is not installed (${path.replace(root, '')} is missing)`;
  if (process.env.CLOUDHOP_REQUIRE_SERVICES === '1') {
    throw new Error(`${reason}; CLOUDHOP_REQUIRE_SERVICES=1 requires it.`);
  }
  console.warn(`Skipping the ${name} tests: ${reason}. Run \`${install}\` to install it.`);
  return false;
}

function newestModification(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, entry)));
  return newest;
}

const ENTRY_FILES = ['index.js', 'index.cjs', 'openai.js', 'openai.cjs', 'azure.js', 'azure.cjs'];

/**
 * The built package these tests run: `dist/` when `npm run build` made it from the current
 * sources (CI builds before testing), else a copy built from the same tsup config into a
 * temporary folder (without declarations), so a stale or missing dist/ is never what is tested.
 */
const temporary: string[] = [];

/** Removes the folders the helpers made (apps, a built copy); for afterAll. */
export function removeTemporaryFolders(): void {
  for (const folder of temporary.splice(0)) rmSync(folder, { recursive: true, force: true });
  building = undefined;
}

function builtCloudhop(): Promise<string> {
  building ??= buildUnlessFresh();
  return building;
}
let building: Promise<string> | undefined;

async function buildUnlessFresh(): Promise<string> {
  const dist = join(root, 'dist');
  const sources = Math.max(
    newestModification(join(root, 'src')),
    newestModification(join(root, 'tsup.config.ts')),
  );
  const built = ENTRY_FILES.map((file) => join(dist, file));
  if (built.every((file) => existsSync(file) && statSync(file).mtimeMs >= sources)) return dist;

  const outDir = mkdtempSync(join(tmpdir(), 'cloudhop-dist-'));
  console.info(
    `dist/ is missing or older than src/: building a copy into ${outDir} (npm run build to skip this)`,
  );
  const { build } = await import('tsup');
  const { default: config, entries } = await import('../../tsup.config.js');
  const entry = Object.fromEntries(
    Object.entries(entries).filter(([, path]) => existsSync(join(root, path))),
  );
  temporary.push(outDir);
  await build({ ...config, entry, outDir, dts: false, sourcemap: false, silent: true, config: false });
  return outDir;
}

/**
 * A folder laid out as an app that installed cloudhop: node_modules/cloudhop holds the built
 * package (builtCloudhop's files, under the package.json exports), node_modules/openai (or the
 * given folder), zod and @opentelemetry/api point at installed ones, and the app's files from
 * scripts/beyond-node/ sit at the top.
 */
export async function installedApp(options: { openai?: string } = {}): Promise<string> {
  const dist = await builtCloudhop();
  const app = mkdtempSync(join(tmpdir(), 'cloudhop-beyond-node-'));
  temporary.push(app);
  const modules = join(app, 'node_modules');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  mkdirSync(join(modules, 'cloudhop'), { recursive: true });
  writeFileSync(
    join(modules, 'cloudhop/package.json'),
    JSON.stringify({ name: 'cloudhop', type: 'module', sideEffects: false, exports: manifest.exports }),
  );
  await cp(dist, join(modules, 'cloudhop/dist'), { recursive: true });
  symlinkSync(options.openai ?? join(root, 'node_modules/openai'), join(modules, 'openai'));
  symlinkSync(join(root, 'node_modules/zod'), join(modules, 'zod'));
  mkdirSync(join(modules, '@opentelemetry'));
  symlinkSync(join(root, 'node_modules/@opentelemetry/api'), join(modules, '@opentelemetry/api'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'beyond-node-app', private: true, type: 'module' }),
  );
  for (const file of readdirSync(fixtures)) await cp(join(fixtures, file), join(app, file));
  return app;
}

/** An app that has no AWS package installed: any attempt to resolve one fails the bundle. */
const awsPackagesAbsent: Plugin = {
  name: 'aws-packages-absent',
  setup(bundler) {
    bundler.onResolve({ filter: /^@(aws-sdk|smithy)\// }, ({ path, importer }) => ({
      errors: [{ text: `Could not resolve "${path}" (imported by ${importer})` }],
    }));
  },
};

/**
 * Bundles an app's entry for a web-standard runtime: platform `browser`, so any import of a Node
 * built-in (`node:events`, `events`, `buffer`, …) fails the build, as it fails Vercel's and
 * Cloudflare's bundlers; no AWS package may be resolved; nothing is left external.
 */
export async function webBundle(
  app: string,
  entry: string,
  options: { format: 'iife' | 'esm'; globalName?: string; conditions?: string[]; outfile?: string },
): Promise<{ code: string; metafile: Metafile }> {
  const result = await esbuild({
    entryPoints: [join(app, entry)],
    absWorkingDir: app,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: options.format,
    ...(options.globalName ? { globalName: options.globalName } : {}),
    ...(options.conditions ? { conditions: options.conditions } : {}),
    ...(options.outfile ? { outfile: join(app, options.outfile) } : { write: false }),
    metafile: true,
    logLevel: 'silent',
    plugins: [awsPackagesAbsent],
  });
  const code = options.outfile
    ? readFileSync(join(app, options.outfile), 'utf8')
    : result.outputFiles![0]!.text;
  return { code, metafile: result.metafile };
}

/** The cloudhop files a bundle took in, with their text: what the package itself ships for that app. */
export function cloudhopFilesIn(app: string, metafile: Metafile): Map<string, string> {
  const files = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    if (input.startsWith('node_modules/cloudhop/')) files.set(input, readFileSync(join(app, input), 'utf8'));
  }
  return files;
}

/**
 * The package's own code in a web bundle: the ESM entries of cloudhop, cloudhop/openai and
 * cloudhop/azure with their chunks, no AWS package, nothing external, and in cloudhop's files
 * neither `Buffer` nor `process` other than `globalThis.process?.…`.
 */
export async function expectWebStandardBundle(app: string, metafile: Metafile): Promise<void> {
  const inputs = Object.keys(metafile.inputs);
  const files = cloudhopFilesIn(app, metafile);
  expect([...files.keys()].filter((file) => !file.includes('/chunk-')).sort()).toEqual(
    expect.arrayContaining([
      'node_modules/cloudhop/dist/azure.js',
      'node_modules/cloudhop/dist/index.js',
      'node_modules/cloudhop/dist/openai.js',
    ]),
  );
  expect(inputs.filter((input) => /@aws-sdk|@smithy/.test(input))).toEqual([]);
  const external = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((imported) => imported.external).map((imported) => imported.path),
  );
  expect(external).toEqual([]);
  // Comments removed, identifiers kept: what the code really refers to.
  const { transform } = await import('esbuild');
  for (const [file, text] of files) {
    const { code } = await transform(text, { minifyWhitespace: true, format: 'esm', loader: 'js' });
    expect(code.match(/(?<![\w$.])Buffer\s*[.([]/g), `${file} uses Buffer`).toBeNull();
    expect(code.match(/(?<![\w$.])process\s*(?:\?\.|\.|\[)/g), `${file} reads process unguarded`).toBeNull();
    expect(code.match(/(?<![\w$.])require\s*\(/g), `${file} calls require`).toBeNull();
  }
}

/**
 * The emulator's model, plus one scripted behaviour: "Count to N with tick." makes it call the
 * `tick` tool N times, one request each, then say what the ticks returned.
 */
export function countingModel(context: EmulatorContext): EmulatorReply | undefined {
  const { entries } = context;
  const lastUser = entries.findLastIndex((entry) => entry.type === 'message' && entry.role === 'user');
  const asked = lastUser < 0 ? undefined : entries[lastUser]!;
  const count = asked?.type === 'message' ? /^Count to (\d+) with tick\.$/.exec(asked.text) : null;
  if (!count) return undefined;
  const outputs = entries
    .slice(lastUser + 1)
    .flatMap((entry) => (entry.type === 'tool_result' ? [entry.output] : []));
  const target = Number(count[1]);
  if (outputs.length < target) return { toolCalls: [{ name: 'tick', arguments: { n: outputs.length + 1 } }] };
  return `Counted to ${target}: ${outputs.join(', ')}.`;
}

/** How many ticks the app's long turn asks for: one request each, more than Node's 10 listeners. */
export const TICKS = 12;

const WEATHER_ANSWER =
  'The get_weather tool returned: {"city":"Paris","sky":"clear 🌤","temperature":"21 °C","note":"晴れ"}';

/**
 * The app's report, as every runtime must give it: on each of the four runtimes a tool call and
 * its answer, then a streamed second turn that remembers the first; request sizes as the emulator
 * received them; and a long turn of TICKS + 1 requests.
 */
export function expectConversation(report: AppReport, emulatorBytesIn: number): void {
  const runtimes = report.runtimes;
  expect(Object.keys(runtimes)).toEqual(['openaiChat', 'openaiResponses', 'azureChat', 'azureResponses']);
  for (const [name, runtime] of Object.entries(runtimes)) {
    expect(runtime.answers, name).toEqual([WEATHER_ANSWER, 'Your name is Ada.']);
    expect(runtime.streamed, name).toBe('Your name is Ada.');
    expect(runtime.toolCalls, name).toEqual(['get_weather']);
  }
  expect(runtimes.openaiChat.runtimeId).toMatch(/^openai-chat:/);
  expect(runtimes.openaiResponses.runtimeId).toMatch(/^openai-responses:/);
  expect(runtimes.azureChat.runtimeId).toMatch(/^azure-chat:/);
  expect(runtimes.azureResponses.runtimeId).toMatch(/^azure-responses:/);
  const ticks = Array.from({ length: TICKS }, (_, n) => `tick ${n + 1}`).join(', ');
  const { requestBytes: longTurnBytes, ...long } = report.long;
  expect(long).toEqual({ text: `Counted to ${TICKS}: ${ticks}.`, ticks: TICKS });
  // The bodies carry 2-, 3- and 4-byte UTF-8 text: the runtime's byte count matches the wire's.
  const counted =
    Object.values(runtimes).reduce((sum, runtime) => sum + runtime.requestBytes, 0) + longTurnBytes;
  expect(counted).toBe(emulatorBytesIn);
}
