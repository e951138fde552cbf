import type { Item, SummaryItem } from '../core/items.js';
import { byteLength } from '../core/usage.js';
import type { Runtime } from '../runtime/runtime.js';

export interface CompactionOptions {
  /** The runtime that writes summaries; default the agent's own (a cheaper model is a good choice). */
  runtime?: Runtime;
  /** Summarize when the context since the last summary would exceed this; default 80% of maxInputTokens. */
  triggerTokens?: number;
  /** The newest history kept word for word after a summary; default a quarter of triggerTokens. */
  keepRecentTokens?: number;
  /** The summarizer's instructions; the default asks to keep facts, decisions and open tasks. */
  instructions?: string;
}

export interface ContextPolicy {
  /** Send at most this many items (this turn's items are always sent). */
  maxItems?: number;
  /** Keep the estimated input tokens of what is sent under this (this turn's items are always sent). */
  maxInputTokens?: number;
  /** Portable compaction: summarize the oldest part of a long session into a `summary` item. */
  compaction?: CompactionOptions;
}

/**
 * The context budget when none is set: what a request may carry, and the size at which a
 * stateful runtime's server-held context is rebased. Large enough for any session that worked
 * before, small enough that a move of a long session is not refused by the model.
 */
export const DEFAULT_MAX_INPUT_TOKENS = 100_000;

export const DEFAULT_COMPACTION_INSTRUCTIONS =
  'Summarize the conversation so far for your own later use. Keep every fact the user stated ' +
  '(names, preferences, decisions), what tools returned that still matters, commitments you made ' +
  'and open tasks. Write plain text without a preamble, in the language of the conversation.';

/** Resolved budgets of an agent: what every turn checks against. */
export interface ContextBudget {
  maxItems?: number;
  maxInputTokens: number;
  compaction?: Required<Omit<CompactionOptions, 'runtime'>> & { runtime?: Runtime };
}

export function resolveBudget(policy: ContextPolicy): ContextBudget {
  const maxInputTokens = policy.maxInputTokens ?? DEFAULT_MAX_INPUT_TOKENS;
  const budget: ContextBudget = { maxInputTokens };
  if (policy.maxItems !== undefined) budget.maxItems = policy.maxItems;
  const compaction = policy.compaction;
  if (compaction) {
    const triggerTokens = compaction.triggerTokens ?? Math.floor(maxInputTokens * 0.8);
    budget.compaction = {
      triggerTokens,
      keepRecentTokens: compaction.keepRecentTokens ?? Math.floor(triggerTokens / 4),
      instructions: compaction.instructions ?? DEFAULT_COMPACTION_INSTRUCTIONS,
    };
    if (compaction.runtime) budget.compaction.runtime = compaction.runtime;
  }
  return budget;
}

/** Per item, for roles and separators. */
const ITEM_OVERHEAD_TOKENS = 4;
/** An image, whatever its size: about what a large image costs at high detail. */
const IMAGE_TOKENS = 1_500;

/** Four UTF-8 bytes a token: close for English, and on the safe side for other scripts. */
export function textTokens(text: string): number {
  return Math.ceil(byteLength(text) / 4);
}

/** A token estimate that needs no tokenizer and errs on the safe side. */
export function estimateTokens(item: Item): number {
  let tokens = ITEM_OVERHEAD_TOKENS;
  switch (item.type) {
    case 'message':
      for (const part of item.content) tokens += part.type === 'text' ? textTokens(part.text) : IMAGE_TOKENS;
      break;
    case 'tool_call':
      tokens += textTokens(item.name) + textTokens(item.arguments);
      break;
    case 'tool_result':
      tokens += textTokens(item.output);
      break;
    case 'reasoning':
      if (item.summary) tokens += textTokens(item.summary);
      // Opaque data is replayed to its own family and counts there.
      if (item.provider) tokens += textTokens(JSON.stringify(item.provider.data) ?? '');
      break;
    case 'summary':
      tokens += textTokens(item.text);
      break;
  }
  return tokens;
}

export function tokensOf(items: readonly Item[]): number {
  let tokens = 0;
  for (const item of items) tokens += estimateTokens(item);
  return tokens;
}

/** How runtimes receive a summary: plain text in a system message, which every protocol carries. */
export function summaryMessage(summary: SummaryItem): Item {
  return {
    type: 'message',
    id: summary.id,
    role: 'system',
    content: [{ type: 'text', text: `Summary of the earlier conversation:\n${summary.text}` }],
    createdAt: summary.createdAt,
  };
}

/**
 * Walks history from the newest item back and says where a context may start without splitting a
 * tool call from its result. A start is valid when every tool result at or after it answers a
 * call at or after it; a result whose call lies further back (or nowhere) keeps the start after it.
 */
export class CutTracker {
  /** Call ids of results seen whose call has not been seen yet; made at the first result. */
  private open: Set<string> | undefined;

  /** Feed items from the newest back; returns whether a context may start at the item just fed. */
  feed(item: Item): boolean {
    if (item.type === 'tool_result') {
      this.open ??= new Set();
      this.open.add(item.callId);
    }
    // Each result belongs to the nearest call before it with its id: some servers reuse ids
    // (`call_0`) across responses, so meeting the call closes every result with that id.
    else if (item.type === 'tool_call') this.open?.delete(item.callId);
    return this.open === undefined || this.open.size === 0;
  }
}
