import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { bedrockConverse, frontier } from '../../src/aws.js';
import { azureChat, azureResponses } from '../../src/azure.js';
import { runEmulatorCommand } from '../../src/cli/emulator.js';
import { createItem, type MessageItem } from '../../src/core/items.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openaiChat, openaiResponses } from '../../src/openai.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { readJson } from './helpers.js';

const user = (text: string) =>
  createItem<MessageItem>({ type: 'message', role: 'user', content: [{ type: 'text', text }] });

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function startCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'emulator', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const listening = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`the emulator exited early: ${stderr}`)));
  });
  return { child, listening, exited, output: () => stdout };
}

describe('cloudhop emulator (CLI)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'prints its URL and the env vars, serves, and closes cleanly on %s',
    async (signal) => {
      const cli = startCli(['--port', '0']);
      const url = await cli.listening;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const stats = await fetch(`${url}/_emulator/stats`);
      expect((await readJson(stats)).routes.chat.requests).toBe(0);

      const banner = cli.output();
      expect(banner).toContain(`AZURE_OPENAI_ENDPOINT=${url}`);
      expect(banner).toContain(`OPENAI_BASE_URL=${url}/v1`);
      expect(banner).toContain(`AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${url}`);

      cli.child.kill(signal);
      const [code] = await cli.exited;
      expect(code).toBe(0);
      expect(cli.output()).toContain(`cloudhop emulator stopped (${signal})`);
      await expect(fetch(`${url}/_emulator/stats`)).rejects.toThrow();
    },
  );

  it('tells how to set up each runtime, and each one set up that way answers from the emulator and names it', async () => {
    const cli = startCli(['--port', '0']);
    try {
      const url = await cli.listening;
      const banner = cli.output();
      for (const [, name, value] of banner.matchAll(/^ +export (\w+)=(\S+)$/gm)) vi.stubEnv(name!, value!);
      const factories = { azureChat, openaiChat, bedrockConverse, azureResponses, openaiResponses, frontier };
      const calls = [...banner.matchAll(/^ {2}(\w+\(.*\))$/gm)].map((match) => match[1]!);
      expect(calls.map((call) => call.split('(')[0]).sort()).toEqual(Object.keys(factories).sort());

      for (const call of calls) {
        // Runs the line exactly as printed, with the factories in scope.
        const runtime: Runtime = new Function(...Object.keys(factories), `return ${call};`)(
          ...Object.values(factories),
        );
        try {
          expect(runtime.id).toContain(new URL(url).host);
          const result = await runtime.step(
            { items: [user('My name is Ada.')], tools: [], stream: false },
            { signal: new AbortController().signal, emit() {} },
          );
          expect(JSON.stringify(result.items)).toContain('Ada');
        } finally {
          await runtime.close?.();
        }
      }
      const { routes } = await readJson(await fetch(`${url}/_emulator/stats`));
      expect([routes.chat.requests, routes.responses.requests, routes.converse.requests]).toEqual([2, 3, 1]);
    } finally {
      vi.unstubAllEnvs();
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('throws a one-line error for a bad flag or value', async () => {
    await expect(runEmulatorCommand(['--verbose'])).rejects.toThrow(/^unknown option '--verbose'/);
    await expect(runEmulatorCommand(['--port', 'abc'])).rejects.toThrow(/^--port: expected a whole number/);
    await expect(runEmulatorCommand(['--port=70000'])).rejects.toThrow(/^--port: /);
    await expect(runEmulatorCommand(['--host'])).rejects.toThrow(/^--host: needs a value/);
    const error = await runEmulatorCommand(['--nope']).catch((e: Error) => e);
    expect((error as Error).message).not.toContain('\n');
  });

  it('says so when the port is taken', async () => {
    const taken = await startEmulator();
    try {
      const port = new URL(taken.url).port;
      await expect(runEmulatorCommand(['--port', port])).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use`,
      );
    } finally {
      await taken.close();
    }
  });
});
