// The web responses on a web-standard runtime: cloudhop's core bundled for the browser platform (a
// `node:` import would fail the bundle) and run in the Vercel Edge runtime's VM, which has Response,
// ReadableStream and TextEncoder but neither Buffer nor Node's modules.
import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Runs inside the VM: a streamed turn as a UI message stream, one whose body is cancelled, and
// toUIMessages over the session.
const APP = `
import { createAgent, memoryStore, toUIMessages } from './src/index.ts';
import { scriptedRuntime } from './src/testing/index.ts';

globalThis.runApp = async () => {
  const store = memoryStore();
  const agent = createAgent({ runtime: scriptedRuntime(['Hello from the edge.', 'unused']), store });
  const stream = agent.stream('Hi', { session: 'edge' });
  const response = stream.toUIMessageStreamResponse();
  const body = await response.text();
  await stream.result;

  const slow = createAgent({
    runtime: scriptedRuntime([{ text: 'never', delayMs: 60000 }]),
    store,
  });
  const cancelled = slow.stream('Again', { session: 'edge' });
  const reader = cancelled.toSSEResponse().body.getReader();
  await reader.read();
  await reader.cancel();
  const error = await cancelled.result.then(() => undefined, (e) => ({ code: e.code }));
  return {
    header: response.headers.get('x-vercel-ai-ui-message-stream'),
    body,
    error,
    version: await agent.session('edge').version(),
    messages: toUIMessages(await agent.session('edge').items()),
    hasBuffer: typeof Buffer !== 'undefined',
  };
};
`;

describe('on the Edge runtime (web-standard APIs only)', () => {
  it('streams the UI message stream, aborts a turn whose body is cancelled, and rebuilds the messages', async () => {
    const bundle = await build({
      stdin: { contents: APP, resolveDir: root, sourcefile: 'edge-app.ts', loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const vm = new EdgeVM();
    vm.evaluate(bundle.outputFiles[0]!.text);
    const report = await vm.evaluate<Promise<any>>('globalThis.runApp()');

    expect(report.hasBuffer).toBe(false);
    expect(report.header).toBe('v1');
    const chunks = report.body
      .split('\n\n')
      .filter((block: string) => block.startsWith('data: '))
      .map((block: string) => block.slice(6));
    expect(chunks.at(-1)).toBe('[DONE]');
    const deltas = chunks
      .slice(0, -1)
      .map((chunk: string) => JSON.parse(chunk))
      .filter((chunk: any) => chunk.type === 'text-delta')
      .map((chunk: any) => chunk.delta);
    expect(deltas.join('')).toBe('Hello from the edge.');
    expect(report.error).toEqual({ code: 'aborted' });
    expect(report.version).toBe(2);
    expect(report.messages.map((message: any) => [message.role, message.parts.at(-1).text])).toEqual([
      ['user', 'Hi'],
      ['assistant', 'Hello from the edge.'],
    ]);
  });
});
