import { createHash } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import * as z from 'zod/v4';
import { CloudhopError, storeUnavailable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { objectWithMethods, parseOptions } from '../core/options.js';
import { registerSecret } from '../core/secrets.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_LOCK_WAIT_MS,
  type Lease,
  type ListOptions,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
} from '../core/store.js';
import {
  assertLeaseTtl,
  assertLeaseWait,
  leaseConflict,
  sessionLabel,
  throwIfAborted,
  versionConflict,
} from './store-errors.js';
import {
  bindingsToWrite,
  exactlyOneOf,
  lastSummaryIndex,
  onceUntilSuccess,
  pageOf,
  parseListOptions,
  parseLoadOptions,
  parseStoredItem,
  parseStoredSummary,
  waitForLease,
} from './store-kit.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`; the store makes the client and closes it on close(). */
  url?: string;
  /** An ioredis client you own: the store never closes it, and its own retry settings apply. */
  client?: Redis;
  /** Prepended to every key; default "cloudhop:". */
  keyPrefix?: string;
  /** When set, a session's keys expire this many seconds after its last append. */
  ttlSeconds?: number;
}

/**
 * What keeps ioredis from using a URL, checked when the store is made rather than on first use
 * (where the failure would carry the URL, password included). Never quotes the URL.
 */
function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL (redis://[user:password@]host:port[/db]); percent-encode reserved characters in the user name and password';
  }
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return 'has a user name or password with a "%" that starts no percent-encoded character; write "%" as %25';
  }
  if (!/^\/?\d*$/.test(parsed.pathname)) {
    return 'may name a database only by its number after the host (redis://host:6379/0)';
  }
  return undefined;
}

const optionsSchema = exactlyOneOf(
  z
    .object({
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
        .superRefine((url, ctx) => {
          const problem = redisUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional(),
      client: objectWithMethods<Redis>(
        ['evalsha', 'multi'],
        'must be an ioredis client (new Redis(...))',
      ).optional(),
      keyPrefix: z.string().optional(),
      ttlSeconds: z.number().int('must be a whole number of seconds').positive().optional(),
    })
    .strict(),
  'url',
  'client',
  'give exactly one of `url` (the store connects) or `client` (an ioredis client you own)',
);

/**
 * Settings for the client the store creates: a store that is down fails fast with
 * store_unavailable instead of queueing commands, never replays a command whose outcome is
 * unknown (the version check would turn a replayed commit into a confusing conflict), and keeps
 * reconnecting in the background so it works again once Redis is back.
 */
const OWN_CLIENT_OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  connectTimeout: 5_000,
  commandTimeout: 15_000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
};

/** The meta field holding a copy of the latest summary item, so a window read names it without the list. */
const SUMMARY_FIELD = 'summary';

/**
 * Appends atomically. KEYS: items, meta, lease, index. ARGV: expectedVersion, lease token ('' for
 * none), now, ttl seconds ('0' for none), session id, the latest summary's place among the items
 * (1-based, '0' for none), the number of bindings, a field and a JSON text per binding, then the
 * items as JSON. Returns {0, newVersion}, {-1, 0} for a lost lease, {-2, version} for a version
 * mismatch, {-3, key, type found, type expected} for a key holding another type than cloudhop keeps
 * there, {-4} for a version that is not a number; nothing is written unless it returns 0.
 */
const APPEND_SCRIPT = `
-- Every check comes before the first write: Redis does not roll back a script that fails half-way,
-- and a write to a key of the wrong type fails.
local types = {'list', 'hash', 'string', 'zset'}
for i = 1, 4 do
  local found = redis.call('TYPE', KEYS[i])['ok']
  if found ~= 'none' and found ~= types[i] then
    return {-3, KEYS[i], found, types[i]}
  end
end
if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return {-1, 0}
end
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if version == nil then
  return {-4}
end
if version ~= tonumber(ARGV[1]) then
  return {-2, version}
end
local firstItem = 8 + 2 * tonumber(ARGV[7])
local summaryAt = tonumber(ARGV[6])
local summary = ARGV[firstItem - 1 + summaryAt]
-- unpack() fails past about 8,000 values, which would stop the script after its first writes:
-- every run of arguments (items, binding fields and values) is written 1,000 at a time.
local function writeInChunks(command, key, first, last)
  while first <= last do
    local chunkEnd = math.min(first + 999, last)
    redis.call(command, key, unpack(ARGV, first, chunkEnd))
    first = chunkEnd + 1
  end
end
writeInChunks('RPUSH', KEYS[1], firstItem, #ARGV)
local next = version + #ARGV - firstItem + 1
redis.call('HSETNX', KEYS[2], 'createdAt', ARGV[3])
redis.call('HSET', KEYS[2], 'version', next, 'updatedAt', ARGV[3])
writeInChunks('HSET', KEYS[2], 8, firstItem - 1)
if summaryAt > 0 then
  redis.call('HSET', KEYS[2], '${SUMMARY_FIELD}', summary)
end
redis.call('ZADD', KEYS[4], 0, ARGV[5])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[4], ttl)
end
return {0, next}
`;

/** Extends a lease only for the holder of its token, while it lives. KEYS: lease. ARGV: token, ttl ms. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** Frees a lease only for the holder of its token. KEYS: lease. ARGV: token. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Drops an id from the listing once its session has expired. KEYS: meta, index. ARGV: session id. */
const FORGET_EXPIRED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

const BINDING_FIELD_PREFIX = 'b:';

/**
 * Escapes a key part so that it contains no ':' (the separator), no braces (the cluster hash tag)
 * and no glob characters, injectively: '%' followed by two hex digits for ASCII, '%u' and four
 * for any other UTF-16 unit. Valid session ids only ever need ':' escaped.
 */
function escapeKeyPart(part: string): string {
  return part.replace(/[^A-Za-z0-9._@-]/g, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x80 ? `%${code.toString(16).padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Key layout, with the namespace as the cluster hash tag so a session's keys and its namespace's
 * index share one slot:
 *   {prefix}{ns}:s:{id}:items   list of items (JSON), in order
 *   {prefix}{ns}:s:{id}:meta    hash: version, createdAt, updatedAt, summary (latest summary item JSON),
 *                               b:{runtimeId} → binding JSON
 *   {prefix}{ns}:s:{id}:lease   the lease token, expiring with the lease (SET NX PX)
 *   {prefix}{ns}:sessions       sorted set of the namespace's session ids (all score 0, by id)
 */
function keysFor(prefix: string, key: SessionKey) {
  const session = `${prefix}{${escapeKeyPart(key.namespace)}}:s:${escapeKeyPart(key.sessionId)}`;
  return {
    items: `${session}:items`,
    meta: `${session}:meta`,
    lease: `${session}:lease`,
    index: indexKey(prefix, key.namespace),
  };
}

function indexKey(prefix: string, namespace: string): string {
  return `${prefix}{${escapeKeyPart(namespace)}}:sessions`;
}

class RedisScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL the first time a server has not seen the script. */
  async run(client: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const appendScript = new RedisScript(APPEND_SCRIPT);
const releaseScript = new RedisScript(RELEASE_SCRIPT);
const renewScript = new RedisScript(RENEW_SCRIPT);
const forgetExpiredScript = new RedisScript(FORGET_EXPIRED_SCRIPT);

/** Results of a MULTI, throwing the first command error. */
function execResults(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error('the Redis transaction was aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Another program's key where cloudhop keeps one of a session's keys: nothing is written over it. */
function foreignKey(key: string, found: string, expected: string): CloudhopError {
  return new CloudhopError(
    'store_unavailable',
    `The Redis key "${key}" holds a ${found}, not the ${expected} cloudhop keeps there, so nothing was written: something else writes under this key prefix. Give cloudhop a keyPrefix of its own, or delete that key if nothing needs it.`,
    { retryable: false },
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured URL';
  }
}

function registerUrlCredentials(url: string): void {
  try {
    const parsed = new URL(url);
    for (const value of [parsed.password, parsed.username]) {
      if (value) {
        registerSecret(value);
        registerSecret(decodeURIComponent(value));
      }
    }
  } catch {
    // Not parseable: ioredis will reject it on connect, and there is no credential to find.
  }
}

/**
 * Sessions in Redis, for many app instances sharing them: a list per session plus a hash for
 * version and bindings, appended in one Lua script that also checks the version and the lease.
 */
export function redisStore(options: RedisStoreOptions): SessionStore {
  const config = parseOptions(optionsSchema, options, 'redisStore');
  if (config.url) registerUrlCredentials(config.url);
  const prefix = config.keyPrefix ?? 'cloudhop:';
  const ttlSeconds = config.ttlSeconds ?? 0;
  let ownClient: Redis | undefined;
  let connecting: Promise<void> | undefined;
  /** The last connection failure of the client this store made: a better reason than "Connection is closed". */
  let connectionError: Error | undefined;
  let closed = false;

  const createClient = onceUntilSuccess(async () => {
    let RedisClient: typeof Redis;
    try {
      RedisClient = (await import('ioredis')).Redis;
    } catch (error) {
      throw new CloudhopError(
        'invalid_config',
        'redisStore: the ioredis package is not installed. Run `npm install ioredis`.',
        { cause: error },
      );
    }
    const client = new RedisClient(config.url!, OWN_CLIENT_OPTIONS);
    // Without a listener, a connection error would be an unhandled 'error' event; each failing
    // call reports it as store_unavailable instead.
    client.on('error', (error: Error) => {
      connectionError = error;
    });
    client.on('ready', () => {
      connectionError = undefined;
    });
    ownClient = client;
    return client;
  });

  async function connected(): Promise<Redis> {
    if (closed) throw new CloudhopError('store_unavailable', 'This redisStore was closed; create a new one.');
    const client = config.client ?? (await createClient());
    // A lazy client connects on first use; calls made meanwhile wait for that same attempt
    // instead of failing on a connection that is not ready yet.
    if (client.status === 'wait') {
      connecting = client.connect().finally(() => {
        connecting = undefined;
      });
    }
    if (connecting) await connecting;
    return client;
  }

  async function run<T>(what: string, work: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await work(await connected());
    } catch (error) {
      throw storeUnavailable(explainDisconnected(error), what);
    }
  }

  /** When our own client is not connected, says where it could not connect and why. */
  function explainDisconnected(error: unknown): unknown {
    if (error instanceof CloudhopError || !ownClient || ownClient.status === 'ready') return error;
    const reason = (connectionError ?? (error as Error)).message?.replace(/\.$/, '');
    return new Error(`cannot reach Redis at ${hostOf(config.url!)} (${reason})`, { cause: error });
  }

  return {
    appendsBindings: true,
    async load(key, loadOptions) {
      const { fromVersion, limit } = parseLoadOptions(loadOptions);
      const keys = keysFor(prefix, key);
      return run('loading a session', async (client): Promise<SessionSnapshot | undefined> => {
        // One MULTI: the window always matches the version beside it. A start past the end of
        // the list reads nothing; limit 0 reads no list at all (LRANGE 0 -1 would be everything).
        const transaction = client.multi().hgetall(keys.meta);
        if (limit !== 0) {
          transaction.lrange(keys.items, fromVersion, limit === undefined ? -1 : fromVersion + limit - 1);
        }
        const [meta, rawItems = []] = execResults(await transaction.exec()) as [
          Record<string, string>,
          string[]?,
        ];
        if (meta.version === undefined) return undefined;
        const bindings: Record<string, Binding> = {};
        for (const [field, value] of Object.entries(meta)) {
          if (field.startsWith(BINDING_FIELD_PREFIX)) {
            bindings[field.slice(BINDING_FIELD_PREFIX.length)] = JSON.parse(value) as Binding;
          }
        }
        const version = Number(meta.version);
        const snapshot: SessionSnapshot = {
          items: rawItems.map((raw, index) => {
            const position = fromVersion + index;
            return parseStoredItem(raw, key, {
              position,
              row: `index ${position} of the list ${keys.items}`,
            });
          }),
          version,
          bindings,
          meta: { createdAt: meta.createdAt, updatedAt: meta.updatedAt },
          fromVersion: Math.min(fromVersion, version),
        };
        const summary = meta[SUMMARY_FIELD];
        if (summary !== undefined) {
          snapshot.summary = parseStoredSummary(summary, key, {
            row: `the field "${SUMMARY_FIELD}" of the hash ${keys.meta}`,
          });
        }
        return snapshot;
      });
    },

    async append(key, items, appendOptions: AppendOptions) {
      const keys = keysFor(prefix, key);
      const bindings = bindingsToWrite(appendOptions);
      const args = [
        appendOptions.expectedVersion,
        appendOptions.lease?.token ?? '',
        new Date().toISOString(),
        ttlSeconds,
        key.sessionId,
        lastSummaryIndex(items) + 1,
        bindings.length,
        ...bindings.flatMap((binding) => [BINDING_FIELD_PREFIX + binding.runtimeId, JSON.stringify(binding)]),
        ...items.map((item) => JSON.stringify(item)),
      ];
      throwIfAborted(appendOptions.signal, `appending to ${sessionLabel(key)}`);
      return run('appending to a session', async (client) => {
        const [status, value, found, expected] = (await appendScript.run(
          client,
          [keys.items, keys.meta, keys.lease, keys.index],
          args,
        )) as [number, number | string, string?, string?];
        if (status === -1) throw leaseConflict(key);
        if (status === -2) throw versionConflict(key, appendOptions.expectedVersion, Number(value));
        if (status === -3) throw foreignKey(String(value), found!, expected!);
        if (status === -4) throw foreignKey(keys.meta, 'hash without a numeric version', 'session hash');
        return Number(value);
      });
    },

    async lock(key, ttlMs, lockOptions = {}) {
      const waitMs = assertLeaseWait(ttlMs, lockOptions.waitMs ?? DEFAULT_LOCK_WAIT_MS);
      const leaseKey = keysFor(prefix, key).lease;
      const token = newId();
      const ttl = Math.max(1, Math.ceil(ttlMs));
      const lease: Lease = {
        token,
        release: async () => {
          await run('releasing a lease', (client) => releaseScript.run(client, [leaseKey], [token]));
        },
        renew: async (renewTtlMs) => {
          assertLeaseTtl(renewTtlMs, 'renew');
          const renewed = await run('renewing a lease', (client) =>
            renewScript.run(client, [leaseKey], [token, Math.max(1, Math.ceil(renewTtlMs))]),
          );
          if (renewed !== 1) throw leaseConflict(key);
        },
      };
      return waitForLease(key, waitMs, lockOptions.signal, async () => {
        const taken = await run('taking a lease', (client) => client.set(leaseKey, token, 'PX', ttl, 'NX'));
        return taken === 'OK' ? lease : undefined;
      });
    },

    async delete(key) {
      const keys = keysFor(prefix, key);
      return run('deleting a session', async (client) => {
        execResults(
          await client.multi().del(keys.items, keys.meta, keys.lease).zrem(keys.index, key.sessionId).exec(),
        );
      });
    },

    async list(listOptions: ListOptions = {}) {
      const { namespace, limit, cursor } = parseListOptions(listOptions);
      const index = indexKey(prefix, namespace);
      return run('listing sessions', async (client) => {
        const ids: string[] = [];
        let start = cursor === '' ? '-' : `(${cursor}`;
        // One id past the page tells whether there is a next page.
        while (ids.length <= limit) {
          const wanted = limit + 1 - ids.length;
          const batch = await client.zrangebylex(index, start, '+', 'LIMIT', 0, wanted);
          for (const sessionId of batch) {
            // Only with ttlSeconds can an id outlive its session; drop those as they are met.
            const expired =
              ttlSeconds > 0 &&
              (await forgetExpiredScript.run(
                client,
                [keysFor(prefix, { namespace, sessionId }).meta, index],
                [sessionId],
              )) === 1;
            if (!expired) ids.push(sessionId);
          }
          if (batch.length < wanted) break;
          start = `(${batch[batch.length - 1]}`;
        }
        return pageOf(ids, limit);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      // Only the client this store made is closed; a client passed in belongs to the caller.
      if (ownClient) {
        const client = ownClient;
        ownClient = undefined;
        try {
          if (client.status === 'ready') await client.quit();
          else client.disconnect();
        } catch {
          client.disconnect();
        }
      }
    },
  };
}
