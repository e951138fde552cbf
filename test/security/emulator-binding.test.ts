// The emulator accepts no credentials worth the name, so it must not be reachable from other
// machines: it listens on 127.0.0.1 unless told otherwise, from the API and from the CLI.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Addresses of this machine other than 127.0.0.1: its network interfaces, and on Linux 127.0.0.2,
 * which the kernel routes to the loopback interface, so that only a server bound to a wildcard
 * address answers there. Either is what another machine (or container) would connect to.
 */
function otherAddresses(): string[] {
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')
    .map((entry) => entry!.address);
  return process.platform === 'linux' ? [...external, '127.0.0.2'] : external;
}

const portOf = (url: string) => Number(new URL(url).port);

let running: Emulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('emulator binding', () => {
  it('startEmulator() listens on 127.0.0.1 and nowhere else', async () => {
    running = await startEmulator();
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = portOf(running.url);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    const others = otherAddresses();
    expect(others.length).toBeGreaterThan(0);
    for (const address of others)
      expect({ address, accepts: await accepts(address, port) }).toEqual({ address, accepts: false });
  });

  it('listens on every interface only when told to (host: "0.0.0.0")', async () => {
    running = await startEmulator({ host: '0.0.0.0' });
    // The printed URL stays a loopback one: 0.0.0.0 is not an address to connect to.
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = portOf(running.url);
    for (const address of otherAddresses())
      expect({ address, accepts: await accepts(address, port) }).toEqual({ address, accepts: true });
  });

  it('`cloudhop emulator` listens on 127.0.0.1 by default', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'emulator', '--port', '0'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = once(child, 'exit');
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        void exited.then(() => reject(new Error(`the emulator exited early: ${stdout}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const port = portOf(url);
      expect(await accepts('127.0.0.1', port)).toBe(true);
      for (const address of otherAddresses())
        expect({ address, accepts: await accepts(address, port) }).toEqual({ address, accepts: false });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
