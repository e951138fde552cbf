import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { CloudhopError, describeThrown, messageOf } from '../../src/core/errors.js';
import { registerSecret } from '../../src/core/secrets.js';

type Cloudhop = typeof import('../../src/index.js');
type Secrets = typeof import('../../src/core/secrets.js');
type Testing = typeof import('../../src/testing/index.js');

/**
 * Two module instances of cloudhop in one process, as when an application imports the ESM build
 * and a dependency requires the CJS one (or two versions are installed side by side).
 */
async function twoCopies(): Promise<[Cloudhop & Secrets & Testing, Cloudhop & Secrets & Testing]> {
  const load = async () => ({
    ...(await import('../../src/index.js')),
    ...(await import('../../src/core/secrets.js')),
    ...(await import('../../src/testing/index.js')),
  });
  vi.resetModules();
  const first = await load();
  vi.resetModules();
  const second = await load();
  expect(first.CloudhopError).not.toBe(second.CloudhopError);
  return [first, second];
}

describe('CloudhopError across copies of cloudhop', () => {
  it('an error built by one copy is an instance of the other, with its code and retryability', async () => {
    const [copyA, copyB] = await twoCopies();
    const error = new copyA.CloudhopError('rate_limited', 'Slow down.', { retryAfterMs: 1200 });

    expect(error instanceof copyB.CloudhopError).toBe(true);
    expect(copyB.CloudhopError.isInstance(error)).toBe(true);
    expect(copyB.CloudhopError.is(error, 'rate_limited')).toBe(true);
    expect(copyB.CloudhopError.is(error, 'timeout')).toBe(false);
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1200 });
    expect(new Error('plain') instanceof copyB.CloudhopError).toBe(false);
    expect(copyB.CloudhopError.isInstance({ code: 'rate_limited', retryable: true })).toBe(false);
  });

  it("an agent retries a rate_limited error thrown by another copy's runtime, instead of failing the turn", async () => {
    const [copyA, copyB] = await twoCopies();
    const runtime = copyB.scriptedRuntime([
      { error: new copyA.CloudhopError('rate_limited', 'Too many requests.', { retryAfterMs: 1 }) },
      'Hello after the retry.',
    ]);
    const agent = copyB.createAgent({ runtime, retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 1 } });
    const events: Array<{ type: string }> = [];
    const stream = agent.stream('Hi', { session: 'two-copies' });
    for await (const event of stream) events.push(event);

    expect((await stream.result).text).toBe('Hello after the retry.');
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(1);
  });

  it("failover moves on from another copy's provider_unavailable error", async () => {
    const [copyA, copyB] = await twoCopies();
    const down = copyB.scriptedRuntime(
      [{ error: new copyA.CloudhopError('provider_unavailable', 'The service is down.') }],
      { id: 'down' },
    );
    const up = copyB.scriptedRuntime(['Answered by the second runtime.'], { id: 'up' });
    const agent = copyB.createAgent({ runtime: copyB.failover([down, up]), retry: { maxRetries: 0 } });

    const result = await agent.run('Hi', { session: 'two-copies-failover' });
    expect(result).toMatchObject({ text: 'Answered by the second runtime.', runtimeId: 'up' });
  });

  it('a secret registered through one copy is redacted by the other', async () => {
    const [copyA, copyB] = await twoCopies();
    const key = 'azkey-two-copies-5c1d9e0f7a3b2c4d';
    copyA.registerSecret(key);

    expect(copyB.redactSecrets(`Incorrect API key provided: ${key}.`)).toBe(
      'Incorrect API key provided: [redacted].',
    );
    expect(new copyB.CloudhopError('auth_failed', `key ${key} was rejected`).message).toBe(
      'key [redacted] was rejected',
    );
  });
});

// ---------------------------------------------------------------------------------------------

const PLANTED_KEY = 'azkey-PLANTED-cause-8e7d6c5b4a39';
const PLANTED_PASSWORD = 'redis-PLANTED-pw-0a1b2c3d';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const PLANTED = [PLANTED_KEY, PLANTED_PASSWORD, ACCESS_KEY_ID];

/** An error as the openai client makes one for a 401 whose body echoed the request's key. */
function echoingVendorError(): Error {
  const body = {
    error: {
      code: '401',
      message: `Access denied due to invalid subscription key or wrong API endpoint (key ${PLANTED_KEY}).`,
    },
  };
  return Object.assign(new Error(`401 ${body.error.message}`), {
    status: 401,
    headers: new Headers({ 'content-type': 'application/json', 'api-key': PLANTED_KEY }),
    error: body.error,
    request: {
      url: 'https://planted.openai.azure.com/openai/deployments/gpt-4o/chat/completions',
      headers: {
        'api-key': PLANTED_KEY,
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20250101/us-east-1/bedrock/aws4_request`,
      },
    },
  });
}

/** The error Node's URL parser throws for a Redis URL with a password and a bad host. */
function urlError(): Error {
  try {
    new URL(`redis://app:${PLANTED_PASSWORD}@cache internal:6379`);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the URL unexpectedly parsed');
}

function leaksIn(text: string): string[] {
  return PLANTED.filter((secret) => text.includes(secret));
}

describe('a CloudhopError whose cause carries secrets', () => {
  registerSecret(PLANTED_KEY);

  it("prints no secret however it is rendered, including Node's own rendering of [cause]", () => {
    const cause = new Error(`connection to the store failed for ${ACCESS_KEY_ID}`, { cause: urlError() });
    const vendor = Object.assign(echoingVendorError(), { cause });
    const error = new CloudhopError('auth_failed', 'The key was rejected. Check the api key.', {
      cause: vendor,
    });

    const renderings = {
      json: JSON.stringify(error),
      inspect: inspect(error, { depth: 10 }),
      // What Node prints when a process dies of the error: its own inspect, custom inspectors off.
      nodeCrash: inspect(error, { depth: 10, customInspect: false }),
      hidden: inspect(error, { depth: 10, customInspect: false, showHidden: true }),
      cause: inspect(error.cause, { depth: 10 }),
      stack: (error.cause as Error).stack ?? '',
    };
    const leaks = Object.fromEntries(Object.entries(renderings).map(([name, text]) => [name, leaksIn(text)]));
    expect(leaks).toEqual(Object.fromEntries(Object.keys(renderings).map((name) => [name, []])));
    // Still useful to debug: the vendor's name, status, message and the driver's code survive.
    expect(renderings.nodeCrash).toContain('Access denied due to invalid subscription key');
    expect(renderings.nodeCrash).toContain("code: 'ERR_INVALID_URL'");
    expect(renderings.nodeCrash).toContain('redis://app:[redacted]@cache internal:6379');
    expect(error.cause).toMatchObject({ status: 401, error: { code: '401' } });
  });

  it('keeps a plain-object cause readable with its credential fields blanked', () => {
    const error = new CloudhopError('store_unavailable', 'The store failed.', {
      cause: {
        host: 'cache.internal',
        password: 'short1',
        request: {
          headers: {
            'Ocp-Apim-Subscription-Key': 'opaque-gateway-credential',
            'set-cookie': ['session=opaque-cookie'],
            'x-request-id': 'req-1',
          },
        },
        usage: { total_tokens: 12 },
      },
    });

    expect(error.cause).toEqual({
      host: 'cache.internal',
      password: '[redacted]',
      request: {
        headers: {
          'Ocp-Apim-Subscription-Key': '[redacted]',
          'set-cookie': '[redacted]',
          'x-request-id': 'req-1',
        },
      },
      usage: { total_tokens: 12 },
    });
  });

  it('serializes a cause that refers to itself without a cycle', () => {
    const cause = Object.assign(new Error('loop'), { self: undefined as unknown });
    cause.self = cause;
    const error = new CloudhopError('provider_error', 'It failed.', { cause });

    expect(() => JSON.stringify(error)).not.toThrow();
    expect(inspect(error, { customInspect: false, depth: 10 })).toContain("self: '[Circular]'");
  });

  it('redacts an Error from another realm as an Error, message and stack included', () => {
    const foreign = runInNewContext(`new TypeError('key ${PLANTED_KEY} refused')`) as Error;
    const error = new CloudhopError('provider_error', 'It failed.', { cause: foreign });

    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({ name: 'TypeError', message: 'key [redacted] refused' });
    expect(leaksIn(inspect(error, { customInspect: false }))).toEqual([]);
  });

  it('keeps a cause that is already a CloudhopError as it is', () => {
    const inner = new CloudhopError('timeout', 'The request timed out.');
    expect(new CloudhopError('provider_unavailable', 'Gave up.', { cause: inner }).cause).toBe(inner);
  });
});

// ---------------------------------------------------------------------------------------------

/** Values a buggy tool or driver can throw: every way of reading them throws. */
function hostileValues(): Record<string, unknown> {
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  return {
    'an object whose toString throws': {
      toString() {
        throw new Error('toString exploded');
      },
    },
    'an Error whose message getter throws': Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('message getter exploded');
      },
    }),
    // The stack first: V8 reads the name when it formats the stack.
    'an Error whose stack and name getters throw': Object.defineProperty(
      Object.defineProperty(new Error('name and stack'), 'stack', {
        get() {
          throw new Error('stack getter exploded');
        },
      }),
      'name',
      {
        get() {
          throw new Error('name getter exploded');
        },
      },
    ),
    'an object without a prototype': Object.create(null),
    'a revoked proxy': revocable.proxy,
    'a proxy that throws on every trap': new Proxy(
      {},
      {
        get: () => {
          throw new Error('get trap');
        },
        ownKeys: () => {
          throw new Error('ownKeys trap');
        },
        getPrototypeOf: () => {
          throw new Error('getPrototypeOf trap');
        },
      },
    ),
    'an error with an enumerable getter that throws': Object.defineProperty(new Error('fields'), 'body', {
      enumerable: true,
      get() {
        throw new Error('body getter exploded');
      },
    }),
  };
}

describe('hostile thrown values', () => {
  for (const [label, value] of Object.entries(hostileValues())) {
    it(`${label}: describeThrown, construction, JSON and inspect never throw`, () => {
      const description = describeThrown(value);
      expect(typeof description).toBe('string');
      expect(description).not.toContain('\n');
      expect(typeof messageOf(value)).toBe('string');

      const error = new CloudhopError('tool_failed', `The tool failed: ${description}`, { cause: value });
      expect(CloudhopError.is(error, 'tool_failed')).toBe(true);
      expect(typeof JSON.stringify(error)).toBe('string');
      expect(typeof inspect(error, { depth: 10 })).toBe('string');
      expect(typeof inspect(error, { depth: 10, customInspect: false })).toBe('string');
      expect(CloudhopError.isInstance(value)).toBe(false);
      expect(value instanceof CloudhopError).toBe(false);
    });
  }

  it('describeThrown says what could not be read instead of throwing', () => {
    expect(describeThrown(hostileValues()['an object whose toString throws'])).toBe(
      'a thrown object that cannot be printed (reading its message or converting it to text threw)',
    );
  });

  it('describeThrown gives the message of an Error on one line, with secrets redacted', () => {
    const key = 'sk-proj-PLANTEDdescribe0123456789abcdef';
    const thrown = new Error(`upstream said:\n  Incorrect API key provided: ${key}\n`);
    expect(describeThrown(thrown)).toBe('upstream said: Incorrect API key provided: [redacted]');
    expect(describeThrown('a plain string')).toBe('a plain string');
    expect(describeThrown({ message: 'an object with a message' })).toBe('an object with a message');
    expect(describeThrown(undefined)).toBe('undefined');
  });
});
