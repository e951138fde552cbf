// Transcript import is a way in for untrusted data: it caps size and depth before anything is
// parsed or written, whether the file comes as JSON text or as an already-parsed object.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CloudhopError,
  type Item,
  importSession,
  memoryStore,
  parseTranscript,
  type SessionStore,
} from '../../src/index.js';

const LIMIT = 64 * 1024 * 1024;

function file(items: Item[]) {
  return {
    format: 'cloudhop.transcript/v1' as const,
    namespace: 'default',
    sessionId: 'imported',
    exportedAt: '2025-01-01T00:00:00.000Z',
    items,
    bindings: {},
  };
}

function toolResult(index: number, output: string): Item {
  return {
    type: 'tool_result',
    id: `01RESULT${index}`,
    callId: `call_${index}`,
    output,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

/** A reasoning item whose provider data nests `levels` objects deep. */
function deepReasoning(levels: number): Item {
  let data: unknown = 'bottom';
  for (let level = 0; level < levels; level++) data = { next: data };
  return {
    type: 'reasoning',
    id: '01REASONING',
    provider: { family: 'openai', data },
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

async function refusedImport(store: SessionStore, input: unknown): Promise<CloudhopError> {
  const error = await importSession(store, input).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CloudhopError);
  expect((error as CloudhopError).code).toBe('transcript_invalid');
  expect(await store.list({})).toEqual({ ids: [] });
  return error as CloudhopError;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('transcript import caps size', () => {
  it('JSON text over 64 MB is refused before it is parsed', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const text = `{"format":"cloudhop.transcript/v1","items":[],"pad":"${'x'.repeat(LIMIT)}"}`;
    const error = await refusedImport(memoryStore(), text);
    expect(error.message).toMatch(
      /^The transcript is \d+ characters long, over the 67108864-byte import limit/,
    );
    expect(parse.mock.calls.some(([argument]) => argument === text)).toBe(false);
  });

  it('JSON text under 64 M characters but over 64 MB in UTF-8 is refused, in bytes', async () => {
    const euros = '€'.repeat(Math.ceil(LIMIT / 3) + 1);
    const text = JSON.stringify(file([toolResult(0, euros)]));
    expect(text.length).toBeLessThan(LIMIT);
    const error = await refusedImport(memoryStore(), text);
    expect(error.message).toMatch(/^The transcript is \d+ bytes, over the 67108864-byte import limit/);
  });

  it('an already-parsed object holding over 64 MB of text is refused too', async () => {
    const error = await refusedImport(memoryStore(), file([toolResult(0, 'y'.repeat(LIMIT + 1))]));
    expect(error.message).toMatch(
      /^The transcript holds more than 67108864 bytes of text, over the import limit/,
    );
  });

  it('an object whose many small items add up to over 64 MB is refused (one shared string, built cheaply)', async () => {
    const megabyte = 'z'.repeat(1024 * 1024);
    const items = Array.from({ length: 65 }, (_, index) => toolResult(index, megabyte));
    const error = await refusedImport(memoryStore(), file(items));
    expect(error.message).toMatch(/holds more than 67108864 bytes of text/);
  });

  it('a large transcript within the limit imports whole', async () => {
    const store = memoryStore();
    const big = 'w'.repeat(10 * 1024 * 1024);
    await importSession(store, JSON.stringify(file([toolResult(0, big), toolResult(1, big)])));
    const snapshot = await store.load({ namespace: 'default', sessionId: 'imported' });
    expect(snapshot?.version).toBe(2);
    expect(snapshot?.items[1]).toMatchObject({ type: 'tool_result', output: big });
  });
});

describe('transcript import caps depth', () => {
  // The file is depth 0, items 1, the item 2, provider 3: the data's objects start at depth 4.
  it('data nested up to depth 63 imports', async () => {
    const store = memoryStore();
    await importSession(store, file([deepReasoning(60)]));
    expect((await store.load({ namespace: 'default', sessionId: 'imported' }))?.version).toBe(1);
  });

  it('data nested one level deeper is refused, as an object and as text', async () => {
    for (const input of [file([deepReasoning(61)]), JSON.stringify(file([deepReasoning(61)]))]) {
      const error = await refusedImport(memoryStore(), input);
      expect(error.message).toMatch(/^The transcript nests deeper than 64 levels/);
    }
  });

  it('text nested a million levels deep is refused without exhausting the stack', async () => {
    const text = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    const error = await refusedImport(memoryStore(), text);
    expect(error.message).toMatch(/nests deeper than 64 levels/);
  });

  it('an object that contains itself is refused instead of looping', () => {
    const looping: Record<string, unknown> = { ...file([]) };
    looping.items = [
      { type: 'reasoning', id: 'r', createdAt: 'now', provider: { family: 'x', data: looping } },
    ];
    expect(() => parseTranscript(looping)).toThrow(/nests deeper than 64 levels/);
  });
});
