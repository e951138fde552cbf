import { readFileSync } from 'node:fs';
import { http, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { VERSION } from 'openai/version';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { createAgent } from '../../src/index.js';
import { openaiChat } from '../../src/openai.js';

/**
 * CI runs the runtime and integration suites a second time with CLOUDHOP_TEST_OPENAI=openai7
 * (vitest.config.ts). If that switch stopped working, those runs would quietly test the root's
 * openai again; these tests make them fail instead.
 */
const compatFolder = process.env.CLOUDHOP_TEST_OPENAI;
const installedManifest = compatFolder
  ? `../compat/${compatFolder}/node_modules/openai/package.json`
  : '../../node_modules/openai/package.json';
const expectedVersion: string = JSON.parse(
  readFileSync(new URL(installedManifest, import.meta.url), 'utf8'),
).version;

describe(`openai under test: ${compatFolder ?? 'the root install'}`, () => {
  it('is the version installed where CLOUDHOP_TEST_OPENAI points', () => {
    expect(VERSION).toBe(expectedVersion);
    const promisedMajor = compatFolder?.match(/^openai(\d+)$/)?.[1];
    if (promisedMajor) expect(VERSION.split('.')[0]).toBe(promisedMajor);
  });

  describe('a runtime of cloudhop', () => {
    const packageVersionsSent: string[] = [];
    const recorder = setupServer(
      http.post('*/v1/chat/completions', ({ request }) => {
        packageVersionsSent.push(request.headers.get('x-stainless-package-version') ?? '(none)');
        return passthrough();
      }),
    );
    let emu: Emulator;
    beforeAll(async () => {
      recorder.listen({ onUnhandledRequest: 'bypass' });
      emu = await startEmulator({ port: 0 });
    });
    afterAll(async () => {
      recorder.close();
      await emu?.close();
    });

    it('sends its requests through that same openai', async () => {
      const agent = createAgent({
        runtime: openaiChat({ baseURL: emu.openaiBaseURL, apiKey: 'sk-compat-check', model: 'gpt-4o' }),
      });
      const result = await agent.run('Hi, my name is Ada.', { session: 'openai-version' });
      expect(result.text).toContain('Ada');
      expect(packageVersionsSent).toEqual([expectedVersion]);
    });
  });
});
