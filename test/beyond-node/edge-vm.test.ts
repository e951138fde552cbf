import { join } from 'node:path';
import { EdgeVM } from '@edge-runtime/vm';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import {
  type AppReport,
  countingModel,
  expectConversation,
  expectWebStandardBundle,
  installedApp,
  removeTemporaryFolders,
  root,
  runtimeAvailable,
  webBundle,
} from './helpers.js';

/**
 * The Vercel Edge runtime's VM: web-standard globals only, no module loader, so the app of
 * scripts/beyond-node/app.mjs runs bundled (with the built cloudhop, openai and zod) as one script.
 */
const SETUP_TIMEOUT = 180_000;

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, respond: countingModel });
});

afterAll(async () => {
  await emu?.close();
  removeTemporaryFolders();
});

async function bundledApp(
  options: { openai?: string } = {},
): Promise<{ app: string; code: string; metafile: Metafile }> {
  const app = await installedApp(options);
  return { app, ...(await webBundle(app, 'app.mjs', { format: 'iife', globalName: 'cloudhopApp' })) };
}

/**
 * The `process` Next.js gives Edge code (createProcessPolyfill in next/dist/server/web/sandbox):
 * `env`, and for every other key of Node's process `undefined`, or a function that throws where
 * Node's is a function (`process.getBuiltinModule` included).
 */
function nextEdgeProcess(): object {
  const polyfill = { env: {} };
  for (const key of Object.keys(process)) {
    if (key === 'env') continue;
    Object.defineProperty(polyfill, key, {
      get: () =>
        typeof (process as any)[key] === 'function'
          ? () => {
              throw new Error(
                `A Node.js API is used (process.${key}) which is not supported in the Edge Runtime.`,
              );
            }
          : undefined,
    });
  }
  return polyfill;
}

function bytesIn(): number {
  return Object.values(emu.stats().routes).reduce((sum, route) => sum + route.bytesIn, 0);
}

async function converseIn(vm: EdgeVM, code: string): Promise<void> {
  vm.evaluate(code);
  const urls = JSON.stringify({ openaiBaseURL: emu.openaiBaseURL, azureEndpoint: emu.azureEndpoint });
  const before = bytesIn();
  const report: AppReport = JSON.parse(
    await vm.evaluate<Promise<string>>(`cloudhopApp.converse(${urls}).then(JSON.stringify)`),
  );
  expectConversation(report, bytesIn() - before);
}

describe('the Vercel Edge runtime VM (@edge-runtime/vm)', () => {
  let bundle: { app: string; code: string; metafile: Metafile };
  beforeAll(async () => {
    bundle = await bundledApp();
  }, SETUP_TIMEOUT);

  it('takes cloudhop, cloudhop/openai and cloudhop/azure into a web bundle: no Node built-in, Buffer, unguarded process or AWS package', async () => {
    await expectWebStandardBundle(bundle.app, bundle.metafile);
  });

  it('imports them where there is no process, Buffer or require, and finds no environment to fall back to', () => {
    const vm = new EdgeVM();
    expect(vm.evaluate('[typeof process, typeof Buffer, typeof require].join()')).toBe(
      'undefined,undefined,undefined',
    );
    vm.evaluate(bundle.code);
    expect(JSON.parse(vm.evaluate('JSON.stringify(cloudhopApp.missingCredentials())'))).toEqual({
      openaiChat:
        'invalid_config: openaiChat: option "apiKey": is required for api.openai.com (or set OPENAI_API_KEY).',
      openaiResponses:
        'invalid_config: apiKey: is required (openaiResponses: pass an OpenAI API key or set OPENAI_API_KEY).',
      azureChat:
        'invalid_config: azureChat: option "endpoint": is required: the Azure OpenAI resource URL, e.g. "https://myres.openai.azure.com" (or set AZURE_OPENAI_ENDPOINT).',
      azureChatKey:
        'invalid_config: azureChat: option "apiKey": give apiKey or azureADTokenProvider (exactly one of them), or set AZURE_OPENAI_API_KEY.',
    });
  });

  it("runs tool calls, history, streaming and a 13-request turn on all four runtimes, with Next.js's process polyfill", async () => {
    // openai 6 needs a `process` once it sees `EdgeRuntime`: it reads `process.version`
    // (openai/openai-node#2552, fixed in openai 7, see below). cloudhop itself needs none (the
    // test above and the one below), and must not trip over the one Next.js gives.
    const vm = new EdgeVM({ extend: (context) => Object.assign(context, { process: nextEdgeProcess() }) });
    expect(vm.evaluate('typeof Buffer')).toBe('undefined');
    await converseIn(vm, bundle.code);
  });
});

const OPENAI_7 = join(root, 'test/compat/openai7/node_modules/openai');
const openai7Installed = runtimeAvailable(
  'openai 7 for the Edge VM',
  OPENAI_7,
  'npm ci --prefix test/compat/openai7',
);

describe.skipIf(!openai7Installed)('the Edge VM with openai 7, where nothing needs a process', () => {
  let bundle: { app: string; code: string; metafile: Metafile };
  beforeAll(async () => {
    bundle = await bundledApp({ openai: OPENAI_7 });
  }, SETUP_TIMEOUT);

  it('runs the same conversation without any process global', async () => {
    const vm = new EdgeVM();
    expect(vm.evaluate('[typeof process, typeof Buffer].join()')).toBe('undefined,undefined');
    await converseIn(vm, bundle.code);
  });
});
