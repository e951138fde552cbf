import type { CloudhopError } from './errors.js';
import type { Item } from './items.js';
import type { Usage } from './usage.js';

/** What a turn returns; `stream(...).result` resolves to the same shape. */
export interface RunResult<Output = unknown> {
  text: string;
  /** Present when the turn was run with an `output` schema: the validated, typed object. */
  output: Output;
  /** The items this turn added to the session. */
  items: Item[];
  usage: Usage;
  runtimeId: string;
  /** The session version after this turn was committed. */
  sessionVersion: number;
  /** What the turn cost, when the agent has `prices` for at least one runtime the turn used. */
  cost?: Cost;
}

/** One runtime's share of a cost, with the tokens it was charged for. */
export interface RuntimeCost {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

export interface Cost {
  usd: number;
  /** Keyed by runtime id; only runtimes with a price. */
  byRuntime: Record<string, RuntimeCost>;
  /** Runtimes that were used but have no price, so are not counted in `usd`. */
  unpriced?: string[];
}

/** Events a runtime may emit while a model step is under way. */
export type RuntimeEvent =
  | { type: 'text-delta'; delta: string }
  | { type: 'session-reseeded'; runtimeId: string; reason: string }
  | { type: 'retry'; attempt: number; delayMs: number; error: CloudhopError }
  | { type: 'failover'; from: string; to: string; error: CloudhopError };

export type AgentEvent =
  | { type: 'turn-start'; sessionId: string; namespace: string; runtimeId: string }
  | RuntimeEvent
  | { type: 'tool-call'; callId: string; name: string; input: unknown }
  | { type: 'tool-result'; callId: string; output: string; isError: boolean }
  | { type: 'step-finish'; usage: Usage; finishReason: FinishReason }
  /** A summary of positions fromVersion..toVersion-1 was written; it is committed with the turn. */
  | { type: 'compacted'; fromVersion: number; toVersion: number; runtimeId: string }
  /** Summarizing failed; the turn goes on without it, its context trimmed to the budget instead. */
  | { type: 'compaction-failed'; error: CloudhopError }
  | { type: 'turn-finish'; result: RunResult };

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';
