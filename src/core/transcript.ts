import * as z from 'zod/v4';
import { CloudhopError, storeUnavailable } from './errors.js';
import { count, type Item, itemSchema, itemSchemaV1, nonEmpty, type SummaryItem } from './items.js';
import { KEY_PATTERN, KEY_RULE } from './keys.js';
import { issuePath } from './options.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_NAMESPACE,
  type SessionKey,
  type SessionStore,
  sessionLabel,
} from './store.js';
import { byteLength } from './usage.js';

/** The format `exportSession` writes. */
export const TRANSCRIPT_FORMAT = 'cloudhop.transcript/v2';
/** The first format (no summary items, no `contextTokens` on bindings); `importSession` reads it forever. */
export const TRANSCRIPT_FORMAT_V1 = 'cloudhop.transcript/v1';
/** Every format `importSession` reads, oldest first. */
export const TRANSCRIPT_FORMATS = [TRANSCRIPT_FORMAT_V1, TRANSCRIPT_FORMAT] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** Imports refuse files larger or deeper than this: a transcript is data, not a way to exhaust memory. */
export const MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024;
export const MAX_TRANSCRIPT_DEPTH = 64;
/**
 * Imports refuse more bindings than this: a session holds one per runtime it has used, and the
 * whole import is one atomic append that a store must be able to take at once.
 */
export const MAX_TRANSCRIPT_BINDINGS = 1_000;

const bindingShapeV1 = {
  runtimeId: nonEmpty,
  remote: z.object({ responseId: nonEmpty.optional(), conversationId: nonEmpty.optional() }).strict(),
  syncedVersion: count,
};

/**
 * A transcript of one format. Every binding's key must be its runtimeId and its syncedVersion within
 * the file's items; a summary is written after the items it condenses, so it can only cover
 * positions before its own (a v1 file holds no summaries).
 */
function transcriptFileSchema<Format extends TranscriptFormat>(
  format: Format,
  item: z.ZodType<Item>,
  binding: z.ZodType<Binding>,
) {
  return z
    .object({
      format: z.literal(format),
      namespace: z.string().regex(KEY_PATTERN),
      sessionId: z.string().regex(KEY_PATTERN),
      exportedAt: nonEmpty,
      items: z.array(item),
      bindings: z.record(z.string(), binding),
    })
    .strict()
    .superRefine((file, ctx) => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      file.items.forEach((item, position) => {
        if (item.type === 'summary' && item.covers.toVersion > position) {
          issue(
            ['items', position, 'covers', 'toVersion'],
            `is ${item.covers.toVersion}, but a summary at position ${position} covers only items before it (toVersion at most ${position})`,
          );
        }
      });
      const bindingCount = Object.keys(file.bindings).length;
      if (bindingCount > MAX_TRANSCRIPT_BINDINGS) {
        issue(
          ['bindings'],
          `holds ${bindingCount} bindings, but an import takes at most ${MAX_TRANSCRIPT_BINDINGS} (one per runtime the session used); remove the bindings of runtimes you no longer use`,
        );
      }
      for (const [runtimeId, { runtimeId: named, syncedVersion }] of Object.entries(file.bindings)) {
        if (named !== runtimeId) issue(['bindings', runtimeId, 'runtimeId'], 'must equal its key');
        if (syncedVersion > file.items.length) {
          issue(
            ['bindings', runtimeId, 'syncedVersion'],
            `is beyond the ${file.items.length} items in the file`,
          );
        }
      }
    });
}

/** Every transcript format `importSession` reads, told apart by `format`. */
export const transcriptSchema = z.discriminatedUnion('format', [
  transcriptFileSchema(TRANSCRIPT_FORMAT_V1, itemSchemaV1, z.object(bindingShapeV1).strict()),
  transcriptFileSchema(
    TRANSCRIPT_FORMAT,
    itemSchema,
    z.object({ ...bindingShapeV1, contextTokens: count.optional() }).strict(),
  ),
]);

interface TranscriptFileBase {
  namespace: string;
  sessionId: string;
  exportedAt: string;
}

/** What `exportSession` writes: items may include summaries, bindings may carry `contextTokens`. */
export interface TranscriptFileV2 extends TranscriptFileBase {
  format: typeof TRANSCRIPT_FORMAT;
  items: Item[];
  bindings: Record<string, Binding>;
}

/** A file written before summaries existed. */
export interface TranscriptFileV1 extends TranscriptFileBase {
  format: typeof TRANSCRIPT_FORMAT_V1;
  items: Array<Exclude<Item, SummaryItem>>;
  bindings: Record<string, Omit<Binding, 'contextTokens'>>;
}

/** Any transcript `importSession` reads; `parseTranscript` returns one. */
export type TranscriptFile = TranscriptFileV1 | TranscriptFileV2;

function invalid(message: string, path = ''): CloudhopError {
  return new CloudhopError(
    'transcript_invalid',
    `${message} (at "${path || '<root>'}"). Export the session again with exportSession() or fix that field.`,
    { path },
  );
}

/**
 * Which limit a parsed transcript breaks: nesting deeper than MAX_TRANSCRIPT_DEPTH, or more than
 * MAX_TRANSCRIPT_BYTES of text (strings and keys, UTF-8) — the cap a file given as an object is
 * held to as well. Walked without recursion so a hostile file cannot blow the stack.
 */
function brokenLimit(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let bytes = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') {
      bytes += byteLength(node);
      if (bytes > MAX_TRANSCRIPT_BYTES) {
        return `The transcript holds more than ${MAX_TRANSCRIPT_BYTES} bytes of text, over the import limit`;
      }
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_TRANSCRIPT_DEPTH)
      return `The transcript nests deeper than ${MAX_TRANSCRIPT_DEPTH} levels`;
    const children = Array.isArray(node) ? node : Object.entries(node).flat();
    for (const child of children) stack.push([child, depth + 1]);
  }
  return undefined;
}

/** Parses and validates a transcript file (object or JSON text); throws `transcript_invalid` with the path. */
export function parseTranscript(file: unknown): TranscriptFile {
  let value = file;
  if (typeof file === 'string') {
    // More UTF-16 units than the limit means more UTF-8 bytes still: only a shorter text is counted.
    const bytes = file.length > MAX_TRANSCRIPT_BYTES ? undefined : byteLength(file);
    if (bytes === undefined || bytes > MAX_TRANSCRIPT_BYTES) {
      const size = bytes === undefined ? `${file.length} characters long` : `${bytes} bytes`;
      throw invalid(`The transcript is ${size}, over the ${MAX_TRANSCRIPT_BYTES}-byte import limit`);
    }
    try {
      value = JSON.parse(file);
    } catch (error) {
      throw invalid(`The transcript is not valid JSON (${(error as Error).message})`);
    }
  }
  const broken = brokenLimit(value);
  if (broken) throw invalid(broken);
  // zod leaves a "__proto__" key out of the record it returns, so such a binding would vanish
  // without an error: no runtime id is "__proto__", and the file is refused instead.
  const bindings = (value as { bindings?: unknown } | null)?.bindings;
  if (typeof bindings === 'object' && bindings !== null && Object.hasOwn(bindings, '__proto__')) {
    throw invalid('A binding is keyed "__proto__", which is no runtime id', 'bindings.__proto__');
  }
  const parsed = transcriptSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(hintFor(issue, value), issuePath(issue));
  }
  return parsed.data as TranscriptFile;
}

/** What the first issue means to whoever holds the file. */
function hintFor(issue: z.core.$ZodIssue, file: unknown): string {
  if (issue.path[0] === 'format') {
    return `The format must be ${TRANSCRIPT_FORMATS.map((format) => `"${format}"`).join(' or ')}`;
  }
  if (isSummaryInV1(issue.path, file)) {
    return `A summary item needs format "${TRANSCRIPT_FORMAT}", but this file is "${TRANSCRIPT_FORMAT_V1}"`;
  }
  return `The transcript field is invalid: ${issue.message}`;
}

function isSummaryInV1(path: PropertyKey[], file: unknown): boolean {
  const [field, position, key] = path;
  if (field !== 'items' || typeof position !== 'number' || key !== 'type') return false;
  // An issue inside the items means the file is an object of a known format with a list of items.
  const { format, items } = file as { format: unknown; items: Array<{ type?: unknown } | null> };
  return format === TRANSCRIPT_FORMAT_V1 && items[position]?.type === 'summary';
}

/** Exports a session as a `cloudhop.transcript/v2` object (JSON.stringify it to write a file). */
export async function exportSession(
  store: SessionStore,
  sessionId: string,
  options: { namespace?: string } = {},
): Promise<TranscriptFileV2> {
  const key: SessionKey = { namespace: options.namespace ?? DEFAULT_NAMESPACE, sessionId };
  const snapshot = await store.load(key).catch((error: unknown) => {
    throw storeUnavailable(error, 'loading the session to export');
  });
  if (!snapshot) {
    throw new CloudhopError(
      'invalid_session_id',
      `There is no session "${sessionId}" in namespace "${key.namespace}" to export. Check the id and the namespace.`,
    );
  }
  return {
    format: TRANSCRIPT_FORMAT,
    namespace: key.namespace,
    sessionId,
    exportedAt: new Date().toISOString(),
    items: snapshot.items,
    bindings: snapshot.bindings,
  };
}

/**
 * Imports a transcript into `store` as a new session (the file's ids, or the ones in `options`).
 * The file is validated in full before anything is written, and then written in one atomic append
 * (items and every binding), so an import either lands whole or not at all. An existing session,
 * also an empty one, is never written into (`store_conflict`). Returns the key the session was
 * written under.
 */
export async function importSession(
  store: SessionStore,
  file: unknown,
  options: { namespace?: string; sessionId?: string } = {},
): Promise<SessionKey> {
  const transcript = parseTranscript(file);
  const key: SessionKey = {
    namespace: options.namespace ?? transcript.namespace,
    sessionId: options.sessionId ?? transcript.sessionId,
  };
  for (const [name, value] of Object.entries(key)) {
    if (!KEY_PATTERN.test(value)) {
      throw new CloudhopError('invalid_session_id', `importSession: ${name} "${value}" must be ${KEY_RULE}.`);
    }
  }
  const bindings = Object.values(transcript.bindings);
  const append: AppendOptions = { expectedVersion: 0 };
  if (store.appendsBindings) append.bindings = bindings;
  else if (bindings.length === 1) append.binding = bindings[0];
  else if (bindings.length > 1) {
    throw new CloudhopError(
      'invalid_config',
      `importSession: the transcript has ${bindings.length} bindings, but this store cannot write several in one append (it does not declare \`appendsBindings\`), so the import could land half done. Nothing was written. Give the store \`bindings\` support, or remove the bindings from the file (each runtime then starts again from the transcript).`,
    );
  }
  // A version check alone cannot tell a missing session from an empty one, so the head is read
  // first; only an empty session created between the two is left to the version check.
  const existing = await store.load(key, { limit: 0 }).catch((error: unknown) => {
    throw storeUnavailable(error, 'looking for the session to import into');
  });
  if (existing) throw alreadyThere(key, existing.version);
  try {
    await store.append(key, transcript.items, append);
  } catch (error) {
    if (CloudhopError.is(error, 'store_conflict')) throw alreadyThere(key);
    throw storeUnavailable(error, 'importing the session');
  }
  return key;
}

function alreadyThere(key: SessionKey, version?: number): CloudhopError {
  return new CloudhopError(
    'store_conflict',
    `importSession: the ${sessionLabel(key)} ${version ? `is at version ${version}, not the expected 0: it ` : ''}already exists, and an import never writes into an existing session. Nothing was written. Import under another sessionId, or delete that session first.`,
  );
}
