import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import {
  type AppReport,
  countingModel,
  expectConversation,
  installedApp,
  removeTemporaryFolders,
  root,
  runtimeAvailable,
} from './helpers.js';

/**
 * The app of scripts/beyond-node/app.mjs in a child process, importing the built package as it is
 * installed (no bundler): on Node through the ESM and the CommonJS build, and on Bun.
 */
const BUN = join(root, 'node_modules/.bin/bun');
const bunInstalled = runtimeAvailable('Bun', BUN);

let emu: Emulator;
let app: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, respond: countingModel });
  app = await installedApp();
  // The same app through require(): each `require('cloudhop…')` loads the package's .cjs files.
  await build({
    entryPoints: [join(app, 'app.mjs')],
    outfile: join(app, 'app.cjs'),
    format: 'cjs',
    platform: 'node',
    logLevel: 'silent',
  });
}, 180_000);

afterAll(async () => {
  await emu?.close();
  removeTemporaryFolders();
});

function bytesIn(): number {
  return Object.values(emu.stats().routes).reduce((sum, route) => sum + route.bytesIn, 0);
}

/** Runs the script; its report must be the whole conversation, and its stderr is returned. */
async function converseWith(command: string, script: string): Promise<string> {
  const urls = JSON.stringify({ openaiBaseURL: emu.openaiBaseURL, azureEndpoint: emu.azureEndpoint });
  const before = bytesIn();
  // Not execFileSync: the emulator answers from this process's event loop.
  const { stdout, stderr } = await promisify(execFile)(command, [script, urls], { cwd: app });
  const report: AppReport = JSON.parse(stdout);
  expectConversation(report, bytesIn() - before);
  return stderr;
}

describe('Node, importing the built package', () => {
  // A turn of 13 requests leaves more abort listeners on its signal than Node's default of 10;
  // Node warns about that unless the turn raised the limit (node:events, where Node has it).
  it('ESM: runs the conversation, and a 13-request turn makes no MaxListenersExceededWarning', async () => {
    const stderr = await converseWith(process.execPath, 'run.mjs');
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  });

  it('CommonJS: runs the conversation, and a 13-request turn makes no MaxListenersExceededWarning', async () => {
    const stderr = await converseWith(process.execPath, 'run.cjs');
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  });
});

describe.skipIf(!bunInstalled)('Bun (the bun npm package), importing the built ESM package', () => {
  it('runs the conversation', async () => {
    const stderr = await converseWith(BUN, 'run.mjs');
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  });
});
