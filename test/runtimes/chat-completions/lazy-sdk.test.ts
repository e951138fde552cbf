import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Imports both entries and creates both runtimes in a process where `openai` cannot be found.
const probe = `
const { azureChat } = await import(${JSON.stringify(here('../../../src/azure.ts'))});
const { openaiChat } = await import(${JSON.stringify(here('../../../src/openai.ts'))});
const azure = azureChat({ endpoint: 'https://myres.openai.azure.com', deployment: 'gpt-4o', apiKey: 'lazy-test-key' });
openaiChat({ model: 'gpt-4o', apiKey: 'sk-lazy-test' });
const error = await azure
  .step({ items: [], tools: [], stream: false }, { signal: new AbortController().signal, emit() {} })
  .catch((e) => e);
console.log(JSON.stringify({ code: error.code, message: error.message }));
`;

it('imports cloudhop/azure and cloudhop/openai and creates runtimes without the openai package; a step then says what to install', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      here('fixtures/without-openai.mjs'),
      '--input-type=module',
      '--eval',
      probe,
    ],
    { cwd: here('../../..') },
  );
  const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(outcome.code).toBe('invalid_config');
  expect(outcome.message).toContain('npm install openai');
  expect(outcome.message).toContain('azureChat');
});
