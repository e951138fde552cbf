// A process that dies of a CloudhopError prints it with Node's own inspect, which ignores cloudhop's
// custom rendering and shows `[cause]` with its message, stack and fields. Whatever the cause held
// (a vendor error echoing the request's credentials, a driver error quoting a URL with a password),
// stderr must hold no secret.
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Planted } from './helpers/crash-child.js';

const PLANTED: Planted = {
  apiKey: 'azkey-PLANTED-crash-4b7e1c9d2a6f3e8b',
  storePassword: 'store-PLANTED-crash-pw-5d2c',
  accessKeyId: 'AKIAIOSFODNN7CRASHED',
  secretAccessKey: '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',
};

const child = join(import.meta.dirname, 'helpers', 'crash-child.ts');

/** What a careless server echoes: the credential headers the request carried. */
function echoedCredentials(request: IncomingMessage): string {
  return [request.headers['api-key'], request.headers.authorization].filter(Boolean).join(' ');
}

/** Answers as Azure (401 on chat completions) and Bedrock (403 on Converse), quoting the request's credentials. */
function echoingServer(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  const echo = echoedCredentials(request);
  if (request.url?.startsWith('/openai/')) {
    response.writeHead(401, { 'content-type': 'application/json', 'apim-request-id': 'crash-test' });
    response.end(
      JSON.stringify({
        error: {
          code: '401',
          message: `Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource. (received ${echo})`,
        },
      }),
    );
    return;
  }
  response.writeHead(403, {
    'content-type': 'application/json',
    'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/',
    'x-amzn-requestid': 'crash-test',
  });
  response.end(
    JSON.stringify({
      message: `The request is denied because you do not have sufficient permissions to perform the requested action (credentials: ${echo}).`,
    }),
  );
}

const server = createServer(echoingServer);
let serverUrl = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Crash {
  exitCode: number | null;
  stderr: string;
}

function crash(scenario: string): Promise<Crash> {
  return new Promise((resolve) => {
    const spawned = execFile(
      process.execPath,
      ['--import', 'tsx', child, scenario, serverUrl],
      {
        env: { ...process.env, CLOUDHOP_PLANTED: JSON.stringify(PLANTED), NODE_NO_WARNINGS: '1' },
        timeout: 60_000,
      },
      (_error, _stdout, stderr) => resolve({ exitCode: spawned.exitCode, stderr }),
    );
  });
}

function leaksIn(text: string): string[] {
  return Object.values(PLANTED).filter((secret) => text.includes(secret));
}

describe("Node's crash output for an uncaught CloudhopError", () => {
  it('a cause holding a registered key, a URL with a password and an AWS access key id prints none of them', async () => {
    const { exitCode, stderr } = await crash('thrown');

    expect(exitCode).toBe(1);
    // Node did print the error and its causes, with what helps to debug them.
    expect(stderr).toContain('CloudhopError: The session store failed.');
    expect(stderr).toContain('[cause]: Error: connection refused for key [redacted]');
    expect(stderr).toContain("code: 'ERR_INVALID_URL'");
    expect(stderr).toContain('redis://app:[redacted]@cache internal:6379');
    expect(leaksIn(stderr)).toEqual([]);
  });

  it('azureChat against a server that echoes the api-key into its 401 body', async () => {
    const { exitCode, stderr } = await crash('azure-chat');

    expect(exitCode).toBe(1);
    expect(stderr).toContain("code: 'auth_failed'");
    expect(stderr).toContain('[cause]');
    expect(stderr).toContain('Access denied due to invalid subscription key');
    expect(leaksIn(stderr)).toEqual([]);
  });

  it('bedrockConverse against a server that echoes the SigV4 Authorization header into its 403 body', async () => {
    const { exitCode, stderr } = await crash('bedrock');

    expect(exitCode).toBe(1);
    expect(stderr).toContain("code: 'auth_failed'");
    expect(stderr).toContain('[cause]');
    expect(stderr).toContain('AccessDeniedException');
    expect(leaksIn(stderr)).toEqual([]);
  });
});
