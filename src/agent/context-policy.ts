import type { Item } from '../core/items.js';

export interface ContextPolicy {
  /** Keep at most this many items of history (this turn's items are always kept). */
  maxItems?: number;
  /** Keep the estimated input tokens of the items under this (this turn's items are always kept). */
  maxInputTokens?: number;
}

/** A rough token estimate (4 characters a token) that needs no tokenizer and errs on the safe side. */
export function estimateTokens(item: Item): number {
  return Math.ceil(JSON.stringify(item).length / 4);
}

/**
 * Indices where the history may start without splitting a tool call from its result: a cut at `i`
 * is valid when no tool result at or after `i` answers a tool call before `i`.
 */
function validCuts(items: readonly Item[]): boolean[] {
  // Each result belongs to the nearest call before it with its id: some servers reuse ids
  // (`call_0`) across responses, so the id alone does not find the call.
  const lastCall = new Map<string, number>();
  const callOf = new Array<number | undefined>(items.length);
  items.forEach((item, index) => {
    if (item.type === 'tool_call') lastCall.set(item.callId, index);
    else if (item.type === 'tool_result') callOf[index] = lastCall.get(item.callId);
  });
  // earliestOpen: the smallest index of a call whose result lies at or after i.
  const valid = new Array<boolean>(items.length + 1).fill(true);
  let earliestOpen = Number.POSITIVE_INFINITY;
  for (let i = items.length - 1; i >= 0; i--) {
    const call = callOf[i];
    if (call !== undefined) earliestOpen = Math.min(earliestOpen, call);
    valid[i] = !(earliestOpen < i);
  }
  return valid;
}

/**
 * The items a stateless runtime is sent: the newest history that fits the policy, starting at a
 * valid cut, plus everything from `mustKeepFrom` (this turn's items) on. Instructions are not items
 * and are always sent; the store keeps the full transcript whatever is trimmed here. Without a
 * policy the given array itself is returned.
 */
export function applyContextPolicy(items: Item[], mustKeepFrom: number, policy: ContextPolicy): Item[] {
  if (policy.maxItems === undefined && policy.maxInputTokens === undefined) return items;
  const valid = validCuts(items);
  let tokens = 0;
  for (let i = mustKeepFrom; i < items.length; i++) tokens += estimateTokens(items[i]!);
  let start = mustKeepFrom;
  for (let i = mustKeepFrom - 1; i >= 0; i--) {
    tokens += estimateTokens(items[i]!);
    const count = items.length - i;
    if (policy.maxItems !== undefined && count > policy.maxItems) break;
    if (policy.maxInputTokens !== undefined && tokens > policy.maxInputTokens) break;
    if (valid[i]) start = i;
  }
  // mustKeepFrom itself may fall inside a tool exchange of the history; step back to a valid cut.
  while (start > 0 && !valid[start]) start--;
  return items.slice(start);
}
