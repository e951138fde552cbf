import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { createAgent, exportSession, importSession, memoryStore, tool } from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';

async function sessionWithEverything() {
  const store = memoryStore();
  const echo = tool({ name: 'echo', input: z.object({ text: z.string() }), execute: ({ text }) => text });
  const runtime = scriptedRuntime([
    {
      text: 'Calling echo.',
      toolCalls: [{ name: 'echo', arguments: { text: 'héllo 🌍' }, callId: 'call_1' }],
    },
    'Done.',
  ]);
  const agent = createAgent({ runtime, store, tools: [echo] });
  await agent.run(
    [
      { type: 'text', text: 'Echo this' },
      { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
    ],
    { session: 'chat-1' },
  );
  await store.append({ namespace: 'default', sessionId: 'chat-1' }, [], {
    expectedVersion: 5,
    binding: { runtimeId: 'frontier:us-east-1/model', remote: { responseId: 'resp_1' }, syncedVersion: 5 },
  });
  return store;
}

describe('exportSession / importSession', () => {
  it('round-trips a session deep-equal through JSON text', async () => {
    const store = await sessionWithEverything();
    const file = await exportSession(store, 'chat-1');
    expect(file.format).toBe('cloudhop.transcript/v2');
    expect(file.items.map((i) => i.type)).toEqual([
      'message',
      'message',
      'tool_call',
      'tool_result',
      'message',
    ]);
    const other = memoryStore();
    const key = await importSession(other, JSON.stringify(file));
    expect(key).toEqual({ namespace: 'default', sessionId: 'chat-1' });
    const again = await exportSession(other, 'chat-1');
    expect({ ...again, exportedAt: '' }).toEqual({ ...file, exportedAt: '' });
  });

  it('imports under another namespace and id when asked', async () => {
    const file = await exportSession(await sessionWithEverything(), 'chat-1');
    const other = memoryStore();
    await importSession(other, file, { namespace: 'tenant-b', sessionId: 'copy' });
    expect((await other.load({ namespace: 'tenant-b', sessionId: 'copy' }))?.items).toEqual(file.items);
    expect(await other.load({ namespace: 'default', sessionId: 'chat-1' })).toBeUndefined();
  });

  it('rejects a bad file with transcript_invalid and the path of the first bad field, writing nothing', async () => {
    const file = await exportSession(await sessionWithEverything(), 'chat-1');
    const cases: Array<[unknown, string]> = [
      [{ ...file, format: 'cloudhop.transcript/v0' }, 'format'],
      [{ ...file, items: [file.items[0], { ...file.items[2], callId: 42 }] }, 'items.1.callId'],
      [{ ...file, items: [{ ...file.items[0], role: 'wizard' }] }, 'items.0.role'],
      [
        { ...file, bindings: { x: { runtimeId: 'x', remote: {}, syncedVersion: 99 } } },
        'bindings.x.syncedVersion',
      ],
      [JSON.stringify(file).slice(0, 100), ''],
      [{ ...file, sessionId: 'bad id' }, 'sessionId'],
      [{ ...file, extra: true }, ''],
    ];
    for (const [bad, path] of cases) {
      const target = memoryStore();
      const error = await rejection(importSession(target, bad));
      expect(error.code).toBe('transcript_invalid');
      expect(error.path).toBe(path);
      expect(error.message).toMatch(/exportSession|fix that field/);
      expect(await target.list({})).toEqual({ ids: [] });
    }
  });

  it('refuses a deeply nested file before validating it', async () => {
    let nested: unknown = 'x';
    for (let i = 0; i < 10_000; i++) nested = { n: nested };
    const error = await rejection(
      importSession(memoryStore(), {
        format: 'cloudhop.transcript/v1',
        namespace: 'default',
        sessionId: 's',
        exportedAt: 'now',
        items: [{ type: 'reasoning', id: '1', createdAt: 'now', provider: { family: 'x', data: nested } }],
        bindings: {},
      }),
    );
    expect(error.code).toBe('transcript_invalid');
    expect(error.message).toMatch(/deeper than 64/);
  });

  it('never overwrites an existing session', async () => {
    const store = await sessionWithEverything();
    const file = await exportSession(store, 'chat-1');
    const error = await rejection(importSession(store, file));
    expect(error.code).toBe('store_conflict');
    expect((await store.load({ namespace: 'default', sessionId: 'chat-1' }))?.version).toBe(5);
  });

  it('says so when the session to export does not exist', async () => {
    const error = await rejection(exportSession(memoryStore(), 'missing'));
    expect(error.message).toMatch(/no session "missing"/);
  });
});
