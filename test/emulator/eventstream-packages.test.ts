import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// A streamed Bedrock turn against the emulator in a process where neither package can be found.
const probe = `
const { startEmulator } = await import(${JSON.stringify(here('../../src/emulator/index.ts'))});
const { bedrockConverse } = await import(${JSON.stringify(here('../../src/aws.ts'))});
const { createItem } = await import(${JSON.stringify(here('../../src/core/items.ts'))});
let missing = 0;
for (const name of ['@smithy/eventstream-codec', '@smithy/util-utf8']) await import(name).catch(() => missing++);
const emu = await startEmulator();
const runtime = bedrockConverse({
  region: 'us-east-1',
  model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  endpoint: emu.bedrockEndpoint,
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'eventstream-test-secret' },
});
const deltas = [];
const outcome = await runtime
  .step(
    { items: [createItem({ type: 'message', role: 'user', content: [{ type: 'text', text: 'My name is Ada.' }] })], tools: [], stream: true },
    { signal: new AbortController().signal, emit: (event) => event.type === 'text-delta' && deltas.push(event.delta) },
  )
  .then((result) => ({ text: result.items[0].content[0].text }), (error) => ({ code: error.code, message: error.message }));
await runtime.close();
await emu.close();
console.log(JSON.stringify({ missing, deltas: deltas.length, ...outcome }));
`;

it('streams Bedrock from the emulator without @smithy/eventstream-codec and @smithy/util-utf8 installed', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      here('fixtures/without-eventstream-packages.mjs'),
      '--input-type=module',
      '--eval',
      probe,
    ],
    { cwd: here('../..') },
  );
  const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(outcome.missing).toBe(2);
  expect(outcome.code).toBeUndefined();
  expect(outcome.text).toContain('Ada');
  expect(outcome.deltas).toBeGreaterThan(1);
});
