import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
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
 * Cloudflare's Workers runtime (the workerd npm package): the app of scripts/beyond-node/app.mjs,
 * bundled with worker.mjs as the Worker's main module, served by `workerd serve` with the config
 * scripts/beyond-node/workerd.capnp (no nodejs_compat), and asked over HTTP to talk to the emulator.
 */
const WORKERD = join(root, 'node_modules/.bin/workerd');
const workerdInstalled = runtimeAvailable('workerd', WORKERD);

/** Starts workerd on a free port of 127.0.0.1 and resolves with its URL, from its control fd. */
function serve(config: string): { worker: ChildProcess; url: Promise<string> } {
  const worker = spawn(WORKERD, ['serve', config, '--control-fd=3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  worker.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = new Promise<string>((resolve, reject) => {
    let control = '';
    (worker.stdio[3] as Readable).on('data', (chunk) => {
      control += chunk;
      for (const line of control.split('\n')) {
        const event = line.startsWith('{') ? JSON.parse(line) : undefined;
        if (event?.event === 'listen' && event.socket === 'http') resolve(`http://127.0.0.1:${event.port}`);
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code, signal) => reject(new Error(`workerd exited (${code ?? signal}): ${stderr}`)));
  });
  return { worker, url };
}

describe.skipIf(!workerdInstalled)('Cloudflare Workers (workerd)', () => {
  let emu: Emulator;
  let app: string;
  let metafile: Metafile;
  let worker: ChildProcess | undefined;
  let workerURL: string;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, respond: countingModel });
    app = await installedApp();
    ({ metafile } = await webBundle(app, 'worker.mjs', {
      format: 'esm',
      conditions: ['workerd', 'worker', 'browser'],
      outfile: 'worker.bundle.mjs',
    }));
    const served = serve(join(app, 'workerd.capnp'));
    worker = served.worker;
    workerURL = await served.url;
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill();
      await exited;
    }
    await emu?.close();
    removeTemporaryFolders();
  });

  function bytesIn(): number {
    return Object.values(emu.stats().routes).reduce((sum, route) => sum + route.bytesIn, 0);
  }

  it('takes cloudhop, cloudhop/openai and cloudhop/azure into the Worker: no Node built-in, Buffer, unguarded process or AWS package', async () => {
    await expectWebStandardBundle(app, metafile);
  });

  it('constructs the runtimes without a process: no environment to fall back to', async () => {
    const response = await fetch(`${workerURL}/missing-credentials`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
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

  it("runs tool calls, history, streaming and a 13-request turn on all four runtimes over the Worker's fetch", async () => {
    const before = bytesIn();
    const response = await fetch(workerURL, {
      method: 'POST',
      body: JSON.stringify({ openaiBaseURL: emu.openaiBaseURL, azureEndpoint: emu.azureEndpoint }),
    });
    const body = await response.text();
    expect(response.status, body).toBe(200);
    expectConversation(JSON.parse(body) as AppReport, bytesIn() - before);
  });
});
