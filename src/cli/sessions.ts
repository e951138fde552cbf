import { readFile, writeFile } from 'node:fs/promises';
import { CloudhopError, messageOf } from '../core/errors.js';
import { DEFAULT_NAMESPACE, type SessionStore } from '../core/store.js';
import { exportSession, importSession, TRANSCRIPT_FORMAT, TRANSCRIPT_FORMATS } from '../core/transcript.js';

const USAGE = `Usage:
  cloudhop sessions export <store-url> <session-id> [-o file] [--namespace ns]
  cloudhop sessions import <store-url> <file> [--namespace ns]
  cloudhop sessions migrate --from <store-url> --to <store-url> [--namespace ns]
Store URLs: sqlite:PATH, redis://host:6379[/db][?keyPrefix=p], postgres://user@host/db[?schema=s]
export writes ${TRANSCRIPT_FORMAT}; import reads ${TRANSCRIPT_FORMATS.join(' and ')} files.`;

/** Where the command writes: the transcript (export without -o) to stdout, everything else to stderr. */
export interface SessionsCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: SessionsCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A mistake in how the command was called: exit code 2, like a bad URL or an unreachable store. */
class UsageError extends Error {}

interface ParsedArgs {
  positionals: string[];
  output?: string;
  /** Only when --namespace was given: import keeps the file's own namespace otherwise. */
  namespace?: string;
  from?: string;
  to?: string;
}

const FLAGS: Record<string, 'output' | 'namespace' | 'from' | 'to'> = {
  '-o': 'output',
  '--output': 'output',
  '--namespace': 'namespace',
  '--from': 'from',
  '--to': 'to',
};

function parseArgs(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [] };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const field = FLAGS[flag!];
    if (field) {
      const value = inline ?? argv[++index];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value.`);
      parsed[field] = value;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option "${arg}".`);
    } else {
      parsed.positionals.push(arg);
    }
  }
  return parsed;
}

/** The URL with its password hidden, for progress lines and errors. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL, so nothing says where a password would end: everything before the last '@'
    // after the scheme is hidden.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1***@');
  }
}

/** A store URL parsed, or a usage error that shows it without its password. */
function parseStoreUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new UsageError(
      `"${displayUrl(url)}" is not a valid URL: percent-encode reserved characters in the user name and password.`,
    );
  }
}

/**
 * Opens the store a URL names: `sqlite:PATH` (also `sqlite://PATH`), `redis://` / `rediss://`
 * (`?keyPrefix=` sets the store's key prefix), `postgres://` / `postgresql://` (`?schema=` sets
 * the schema). Each store module, and so its driver, is loaded only when its URL is used.
 */
export async function openStoreUrl(url: string): Promise<SessionStore> {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '')
      throw new UsageError(`"${url}" names no file: use sqlite:PATH, e.g. sqlite:./sessions.db.`);
    const { sqliteStore } = await import('../stores/sqlite.js');
    return sqliteStore({ path });
  }
  if (/^rediss?:\/\//.test(url)) {
    const parsed = parseStoreUrl(url);
    const keyPrefix = parsed.searchParams.get('keyPrefix') ?? undefined;
    parsed.searchParams.delete('keyPrefix');
    const { redisStore } = await import('../stores/redis.js');
    return redisStore({ url: parsed.toString(), keyPrefix });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = parseStoreUrl(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    const { postgresStore } = await import('../stores/postgres.js');
    return postgresStore({ connectionString: parsed.toString(), schema });
  }
  throw new UsageError(
    `unsupported store URL "${displayUrl(url)}": use sqlite:PATH, redis://host:6379 or postgres://user@host/db.`,
  );
}

/** Opens a store and makes one call, so an unreachable store is reported before any work starts. */
async function openReachable(url: string, namespace: string, stores: SessionStore[]): Promise<SessionStore> {
  const store = await openStoreUrl(url);
  stores.push(store);
  await store.list({ namespace, limit: 1 });
  return store;
}

/** The version is all these commands read back: a long session's items need not be loaded for it. */
const HEAD_ONLY = { limit: 0 };

async function listAll(store: SessionStore, namespace: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ namespace, cursor, limit: 500 });
    ids.push(...page.ids);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return ids;
}

async function runExport(args: ParsedArgs, io: SessionsCommandIo, stores: SessionStore[]): Promise<number> {
  const [url, sessionId, extra] = args.positionals;
  if (!url || !sessionId || extra !== undefined)
    throw new UsageError('export takes <store-url> <session-id>.');
  const namespace = args.namespace ?? DEFAULT_NAMESPACE;
  const store = await openReachable(url, namespace, stores);
  const file = await exportSession(store, sessionId, { namespace });
  const json = `${JSON.stringify(file, null, 2)}\n`;
  if (args.output) {
    await writeFile(args.output, json);
    io.stderr(`Exported session "${sessionId}" (${file.items.length} items) to ${args.output}.\n`);
  } else {
    io.stdout(json);
    io.stderr(`Exported session "${sessionId}" (${file.items.length} items).\n`);
  }
  return 0;
}

async function runImport(args: ParsedArgs, io: SessionsCommandIo, stores: SessionStore[]): Promise<number> {
  const [url, path, extra] = args.positionals;
  if (!url || !path || extra !== undefined) throw new UsageError('import takes <store-url> <file>.');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const store = await openReachable(url, args.namespace ?? DEFAULT_NAMESPACE, stores);
  // --namespace moves the session there; without it, the file's own namespace is kept.
  const key = await importSession(
    store,
    text,
    args.namespace === undefined ? {} : { namespace: args.namespace },
  );
  const version = (await store.load(key, HEAD_ONLY))?.version ?? 0;
  io.stderr(`Imported session "${key.sessionId}" (namespace "${key.namespace}", ${version} items).\n`);
  return 0;
}

async function runMigrate(args: ParsedArgs, io: SessionsCommandIo, stores: SessionStore[]): Promise<number> {
  if (!args.from || !args.to || args.positionals.length > 0) {
    throw new UsageError('migrate takes --from <store-url> --to <store-url>.');
  }
  const namespace = args.namespace ?? DEFAULT_NAMESPACE;
  const source = await openReachable(args.from, namespace, stores);
  const target = await openReachable(args.to, namespace, stores);
  const ids = await listAll(source, namespace);
  io.stderr(
    `Migrating ${ids.length} sessions in namespace "${namespace}" from ${displayUrl(args.from)} to ${displayUrl(args.to)}.\n`,
  );
  let diverged = 0;
  for (const [index, sessionId] of ids.entries()) {
    const progress = `[${index + 1}/${ids.length}] ${sessionId}`;
    const file = await exportSession(source, sessionId, { namespace });
    try {
      await importSession(target, file, { namespace });
      io.stderr(`${progress}: ${file.items.length} items\n`);
    } catch (error) {
      if (!CloudhopError.is(error, 'store_conflict')) throw error;
      // Already there: a re-run after an interrupted migration skips what it copied before.
      const existing = await target.load({ namespace, sessionId }, HEAD_ONLY);
      if (existing?.version === file.items.length) {
        io.stderr(`${progress}: already in the target, skipped\n`);
      } else {
        diverged += 1;
        io.stderr(
          `${progress}: the target already has a different session (${existing?.version ?? 0} items, source ${file.items.length}); left as it is\n`,
        );
      }
    }
  }
  io.stderr(
    diverged === 0
      ? `Migrated ${ids.length} sessions.\n`
      : `Migrated ${ids.length - diverged} of ${ids.length} sessions; ${diverged} differ in the target and were left as they are.\n`,
  );
  return diverged === 0 ? 0 : 1;
}

/**
 * `cloudhop sessions export|import|migrate …`. Returns the exit code: 0 on success, 2 for a bad
 * call, a bad store URL or an unreachable store, 1 for any other failure. Errors are one line.
 */
export async function runSessionsCommand(argv: string[], io: SessionsCommandIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  const stores: SessionStore[] = [];
  try {
    const args = parseArgs(rest);
    switch (command) {
      case 'export':
        return await runExport(args, io, stores);
      case 'import':
        return await runImport(args, io, stores);
      case 'migrate':
        return await runMigrate(args, io, stores);
      case undefined:
      case '-h':
      case '--help':
        io.stderr(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "sessions ${command}".`);
    }
  } catch (error) {
    const message = messageOf(error).replace(/\s*\n\s*/g, ' ');
    io.stderr(`cloudhop sessions: ${message}\n`);
    const setupFailure =
      error instanceof UsageError ||
      CloudhopError.is(error, 'invalid_config') ||
      CloudhopError.is(error, 'store_unavailable');
    return setupFailure ? 2 : 1;
  } finally {
    await Promise.allSettled(stores.map((store) => store.close()));
  }
}
