import { estimateTokens } from '../../src/agent/context-policy.js';
import type { RuntimeEvent } from '../../src/core/events.js';
import { createItem, type Item, type MessageItem } from '../../src/core/items.js';
import type { LoadOptions, SessionKey, SessionSnapshot, SessionStore } from '../../src/core/store.js';
import type { Runtime, StepRequest, StepResult } from '../../src/runtime/runtime.js';

const FILLER =
  'The quarterly figures came in a little above the forecast, and the team wants to know whether the new pricing page, the onboarding emails and the support macros should ship together next week or one at a time';

/**
 * A realistic long conversation: rounds of user question, tool call, tool result and answer, about
 * 300 characters each. `facts` puts a text at a position (e.g. "my name is Ada" at 0); such a
 * position is always a user message.
 */
export function conversationItems(count: number, facts: Record<number, string> = {}): Item[] {
  const items: Item[] = [];
  for (let position = 0; position < count; position++) {
    const round = Math.floor(position / 4);
    const fact = facts[position];
    const text = `${FILLER} (round ${round})`;
    const callId = `call_${round}`;
    if (fact !== undefined || position % 4 === 0) {
      items.push(message('user', fact ?? `${text}?`, position));
    } else if (position % 4 === 1) {
      items.push({
        type: 'tool_call',
        id: `item-${position}`,
        callId,
        name: 'lookup',
        arguments: JSON.stringify({ query: text.slice(0, 250) }),
        createdAt: stamp(position),
      });
    } else if (position % 4 === 2) {
      items.push({
        type: 'tool_result',
        id: `item-${position}`,
        callId,
        output: JSON.stringify({ found: text.slice(0, 260) }),
        createdAt: stamp(position),
      });
    } else {
      items.push(message('assistant', `${text}.`, position));
    }
  }
  return repairPairs(items);
}

/** A fact placed where a call or result would be leaves its partner alone; drop such orphans' ids. */
function repairPairs(items: Item[]): Item[] {
  const calls = new Set(items.flatMap((item) => (item.type === 'tool_call' ? [item.callId] : [])));
  const results = new Set(items.flatMap((item) => (item.type === 'tool_result' ? [item.callId] : [])));
  return items.map((item, position) =>
    (item.type === 'tool_call' && !results.has(item.callId)) ||
    (item.type === 'tool_result' && !calls.has(item.callId))
      ? message('assistant', `${FILLER}.`, position)
      : item,
  );
}

function stamp(position: number): string {
  return new Date(Date.UTC(2026, 0, 1) + position * 1000).toISOString();
}

function user(text: string): MessageItem {
  return {
    type: 'message',
    id: 'instructions',
    role: 'user',
    content: [{ type: 'text', text }],
    createdAt: stamp(0),
  };
}

function message(role: 'user' | 'assistant', text: string, position: number): MessageItem {
  return {
    type: 'message',
    id: `item-${position}`,
    role,
    content: [{ type: 'text', text }],
    createdAt: stamp(position),
  };
}

/** Writes items into a new session in batches (as turns would, without a model). */
export async function seedSession(store: SessionStore, key: SessionKey, items: Item[]): Promise<number> {
  let version = (await store.load(key, { limit: 0 }))?.version ?? 0;
  for (let start = 0; start < items.length; start += 500) {
    version = await store.append(key, items.slice(start, start + 500), { expectedVersion: version });
  }
  return version;
}

export interface LoadRecord {
  options: LoadOptions | undefined;
  /** How many items the store returned. */
  items: number;
}

/** Wraps a store and records every load: what was asked and how many items came back. */
export function spyStore<S extends SessionStore>(inner: S): S & { loads: LoadRecord[]; itemsRead(): number } {
  const loads: LoadRecord[] = [];
  return Object.assign(Object.create(inner) as S, {
    processLocal: inner.processLocal,
    loads,
    itemsRead: () => loads.reduce((sum, load) => sum + load.items, 0),
    async load(key: SessionKey, options?: LoadOptions): Promise<SessionSnapshot | undefined> {
      const snapshot = await inner.load(key, options);
      loads.push({ options, items: snapshot?.items.length ?? 0 });
      return snapshot;
    },
  });
}

/**
 * A store that ignores load options, as a store written before windowed reads does: it returns
 * every item and no summary, with no `fromVersion` or (`sayFromZero`) with `fromVersion: 0`.
 */
export function ignoringStore<S extends SessionStore>(inner: S, options: { sayFromZero?: boolean } = {}): S {
  return Object.assign(Object.create(inner) as S, {
    processLocal: inner.processLocal,
    async load(key: SessionKey): Promise<SessionSnapshot | undefined> {
      const snapshot = await inner.load(key);
      if (!snapshot) return undefined;
      const { fromVersion: _from, summary: _summary, ...rest } = snapshot;
      return options.sayFromZero ? { ...rest, fromVersion: 0 } : rest;
    },
  });
}

export interface FakeStateful extends Runtime {
  requests: StepRequest[];
  /** What each request carried after a reseed (the runtime asked for reseedItems). */
  reseeds: Item[][];
}

/**
 * A stateful runtime without a network: answers "ok", hands out `resp_<n>` handles, and reports
 * `contextTokens` as its server-held context size. A handle named in `gone` is treated as expired:
 * the runtime reseeds from `reseedItems`, as the Responses runtime does.
 */
export function fakeStateful(
  options: {
    id?: string;
    contextTokens?: number;
    gone?: string[];
    answer?: (request: StepRequest) => string;
    /** Thrown instead of answering, when it returns an error. */
    refuse?: (request: StepRequest) => Error | undefined;
    /**
     * Report usage as a real server does: input = everything it holds for the handle plus what
     * was sent plus the instructions (by the agent's own estimate), instead of `contextTokens`.
     */
    countContext?: boolean;
  } = {},
): FakeStateful {
  const requests: StepRequest[] = [];
  const reseeds: Item[][] = [];
  let responses = 0;
  /** Item tokens a handle's server-side context holds. */
  const held = new Map<string, number>();
  return {
    id: options.id ?? 'fake-stateful',
    kind: 'stateful',
    family: 'fake',
    requests,
    reseeds,
    async step(request, context): Promise<StepResult> {
      requests.push(request);
      const refusal = options.refuse?.(request);
      if (refusal) throw refusal;
      const handle = request.remoteState?.remote.responseId;
      if (handle && options.gone?.includes(handle) && request.reseedItems) {
        reseeds.push(await request.reseedItems());
        const event: RuntimeEvent = { type: 'session-reseeded', runtimeId: this.id, reason: 'expired' };
        context.emit(event);
      }
      responses += 1;
      const text = options.answer?.(request) ?? 'ok';
      let tokens = options.contextTokens ?? 10;
      const base = request.remoteState ? (held.get(request.remoteState.remote.responseId ?? '') ?? 0) : 0;
      const sentTokens = request.items.reduce((sum, item) => sum + estimateTokens(item), 0);
      if (options.countContext) tokens = base + sentTokens + estimateTokens(user(request.instructions ?? ''));
      held.set(`resp_${responses}`, base + sentTokens + 8);
      return {
        items: [
          createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] }),
        ],
        finishReason: 'stop',
        usage: { inputTokens: tokens - 1, outputTokens: 1, totalTokens: tokens, requestBytes: 0 },
        remote: { responseId: `resp_${responses}` },
      };
    },
  };
}
