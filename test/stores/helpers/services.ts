import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A short random suffix so each test run has its own key prefix / schema. */
export function runTag(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Whether a service the tests need answers. When it does not, the suite is skipped with a printed
 * reason — unless CLOUDHOP_REQUIRE_SERVICES=1 (CI), where a missing service fails the run instead.
 */
async function requireService(name: string, url: string, probe: () => Promise<void>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    const reason = `${name} at ${url} is not reachable (${(error as Error).message})`;
    if (process.env.CLOUDHOP_REQUIRE_SERVICES === '1') {
      throw new Error(`${reason}; CLOUDHOP_REQUIRE_SERVICES=1 requires it.`);
    }
    console.warn(`Skipping the ${name} store tests: ${reason}. Set the URL to run them.`);
    return false;
  }
}

export function redisAvailable(url = REDIS_URL): Promise<boolean> {
  return requireService('Redis', url, async () => {
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  });
}

export function postgresAvailable(url = DATABASE_URL): Promise<boolean> {
  return requireService('Postgres', url, async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => {});
    }
  });
}

/** A local port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Deletes every key a test wrote under its own prefix. */
export async function deleteRedisKeys(keyPrefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    const keys = await client.keys(`${keyPrefix}*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    await client.quit();
  }
}

/** Drops a schema a test made, with everything in it. */
export async function dropSchema(schema: string, url = DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
