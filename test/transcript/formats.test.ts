// Transcript files outlive the code that wrote them: v2 adds summary items and contextTokens on
// bindings, and a v1 file keeps importing as it always did.
import { describe, expect, it } from 'vitest';
import {
  type Binding,
  exportSession,
  type Item,
  importSession,
  type MessageItem,
  memoryStore,
  parseTranscript,
  TRANSCRIPT_FORMAT,
  TRANSCRIPT_FORMAT_V1,
} from '../../src/index.js';
import { rejection } from '../helpers/errors.js';

const at = '2025-01-01T00:00:00.000Z';

const message = (id: string, role: 'user' | 'assistant', text: string): Item => ({
  type: 'message',
  id,
  role,
  content: [{ type: 'text', text }],
  createdAt: at,
});

const summary = (id: string, fromVersion: number, toVersion: number): Item => ({
  type: 'summary',
  id,
  text: 'Summary: the user said "my name is Ada". 2 lines summarized.',
  covers: { fromVersion, toVersion },
  createdAt: at,
  runtimeId: 'azure-chat:gpt-4o',
});

const conversation: Item[] = [
  message('01A', 'user', 'my name is Ada'),
  message('01B', 'assistant', 'Nice to meet you, Ada.'),
  summary('01C', 0, 2),
  message('01D', 'user', 'What is my name?'),
  {
    ...(message('01E', 'assistant', 'Your name is Ada.') as MessageItem),
    // Which runtime answered and what its step used: what a session's cost is read back from.
    runtimeId: 'openai-responses:gpt-4o',
    usage: { inputTokens: 40, outputTokens: 6, totalTokens: 46, cachedInputTokens: 32, reasoningTokens: 0 },
  },
];

const responsesBinding: Binding = {
  runtimeId: 'openai-responses:gpt-4o',
  remote: { responseId: 'resp_1' },
  syncedVersion: 5,
  contextTokens: 1234,
};

function v1File(overrides: Record<string, unknown> = {}) {
  return {
    format: TRANSCRIPT_FORMAT_V1,
    namespace: 'default',
    sessionId: 'old',
    exportedAt: at,
    items: [message('01A', 'user', 'my name is Ada'), message('01B', 'assistant', 'Nice to meet you, Ada.')],
    bindings: {
      'frontier:us-east-1/model': {
        runtimeId: 'frontier:us-east-1/model',
        remote: { responseId: 'resp_old' },
        syncedVersion: 2,
      },
    },
    ...overrides,
  };
}

function v2File(overrides: Record<string, unknown> = {}) {
  return {
    format: TRANSCRIPT_FORMAT,
    namespace: 'default',
    sessionId: 'new',
    exportedAt: at,
    items: conversation,
    bindings: { [responsesBinding.runtimeId]: responsesBinding },
    ...overrides,
  };
}

async function expectInvalid(file: unknown, path: string, message: RegExp) {
  const target = memoryStore();
  const error = await rejection(importSession(target, file));
  expect(error.code).toBe('transcript_invalid');
  expect(error.path).toBe(path);
  expect(error.message).toMatch(message);
  expect(error.message).toMatch(/Export the session again/);
  expect(await target.list({})).toEqual({ ids: [] });
}

describe('transcript formats', () => {
  it('names both formats: v2 is written, v1 is still read', () => {
    expect(TRANSCRIPT_FORMAT).toBe('cloudhop.transcript/v2');
    expect(TRANSCRIPT_FORMAT_V1).toBe('cloudhop.transcript/v1');
  });

  it('imports a v1 file with its items and bindings, and exports it again as v2', async () => {
    const store = memoryStore();
    const file = v1File();
    const key = await importSession(store, JSON.stringify(file));
    expect(key).toEqual({ namespace: 'default', sessionId: 'old' });
    const snapshot = await store.load(key);
    expect(snapshot?.items).toEqual(file.items);
    expect(snapshot?.bindings).toEqual(file.bindings);

    const again = await exportSession(store, 'old');
    expect(again).toMatchObject({ format: TRANSCRIPT_FORMAT, items: file.items, bindings: file.bindings });
  });

  it('round-trips summary items and contextTokens through a v2 file, as an object and as JSON text', async () => {
    const store = memoryStore();
    const key = { namespace: 'default', sessionId: 'long' };
    await store.append(key, conversation, { expectedVersion: 0, binding: responsesBinding });

    const file = await exportSession(store, 'long');
    expect(file.format).toBe('cloudhop.transcript/v2');
    expect(file.items).toEqual(conversation);
    expect(file.items[4]).toMatchObject({
      runtimeId: 'openai-responses:gpt-4o',
      usage: { cachedInputTokens: 32 },
    });
    expect(file.bindings).toEqual({ [responsesBinding.runtimeId]: responsesBinding });

    for (const input of [file, JSON.stringify(file)]) {
      const other = memoryStore();
      await importSession(other, input);
      const snapshot = await other.load(key);
      expect(snapshot?.items).toEqual(conversation);
      expect(snapshot?.bindings[responsesBinding.runtimeId]?.contextTokens).toBe(1234);
      const again = await exportSession(other, 'long');
      expect({ ...again, exportedAt: '' }).toEqual({ ...file, exportedAt: '' });
    }
  });

  it('parseTranscript tells the formats apart', () => {
    expect(parseTranscript(v1File()).format).toBe(TRANSCRIPT_FORMAT_V1);
    expect(parseTranscript(JSON.stringify(v2File())).format).toBe(TRANSCRIPT_FORMAT);
  });

  it('refuses a summary item in a v1 file, at its path, saying which format it needs', async () => {
    const items = [...v1File().items, summary('01S', 0, 2)];
    await expectInvalid(
      v1File({ items }),
      'items.2.type',
      /A summary item needs format "cloudhop\.transcript\/v2", but this file is "cloudhop\.transcript\/v1"/,
    );
  });

  it('refuses contextTokens on a v1 binding: v1 bindings stay as strict as they were', async () => {
    const bindings = { x: { runtimeId: 'x', remote: {}, syncedVersion: 1, contextTokens: 10 } };
    await expectInvalid(v1File({ bindings }), 'bindings.x', /Unrecognized key/);
  });

  it('refuses a summary that covers its own position or items after it', async () => {
    const items = [...conversation.slice(0, 2), summary('01S', 0, 3)];
    await expectInvalid(
      v2File({ items, bindings: {} }),
      'items.2.covers.toVersion',
      /a summary at position 2 covers only items before it/,
    );
    // Covering every item before it is the most a summary can do.
    expect(
      parseTranscript(v2File({ items: [...conversation.slice(0, 2), summary('01S', 0, 2)], bindings: {} })),
    ).toBeTruthy();
  });

  it('refuses a summary whose fromVersion is after its toVersion', async () => {
    const items = [...conversation.slice(0, 2), summary('01S', 2, 1)];
    await expectInvalid(v2File({ items, bindings: {} }), 'items.2.covers.toVersion', /fromVersion/);
  });

  it('refuses a binding whose contextTokens is negative or not a whole number', async () => {
    for (const contextTokens of [-1, 1.5, '100']) {
      const bindings = { [responsesBinding.runtimeId]: { ...responsesBinding, contextTokens } };
      await expectInvalid(
        v2File({ bindings }),
        `bindings.${responsesBinding.runtimeId}.contextTokens`,
        /The transcript field is invalid/,
      );
    }
  });

  it('keeps checking bindings against the items in the file, in both formats', async () => {
    const beyond = { x: { runtimeId: 'x', remote: {}, syncedVersion: 6 } };
    await expectInvalid(v2File({ bindings: beyond }), 'bindings.x.syncedVersion', /beyond the 5 items/);
    await expectInvalid(v1File({ bindings: beyond }), 'bindings.x.syncedVersion', /beyond the 2 items/);
  });

  it('refuses a file that is not an object at all, at the root', async () => {
    for (const notAFile of [null, 42, '"cloudhop.transcript/v2"', [v2File()]]) {
      await expectInvalid(notAFile, '', /The transcript field is invalid/);
    }
  });

  it('names every format it reads when the format is unknown', async () => {
    await expectInvalid(
      v2File({ format: 'cloudhop.transcript/v3' }),
      'format',
      /The format must be "cloudhop\.transcript\/v1" or "cloudhop\.transcript\/v2"/,
    );
  });
});
