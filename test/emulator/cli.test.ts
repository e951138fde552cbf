import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runEmulatorCommand } from '../../src/cli/emulator.js';
import { startEmulator } from '../../src/emulator/index.js';
import { readJson } from './helpers.js';

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
