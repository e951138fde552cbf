import { CloudhopError } from '../core/errors.js';
import type { AgentEvent } from '../core/events.js';
import {
  createItem,
  type Item,
  lastAnswerText,
  type MessageItem,
  type SummaryItem,
  textOf,
} from '../core/items.js';
import { addUsage, emptyUsage, type Usage } from '../core/usage.js';
import { type RetryPolicy, stepWithRetry } from '../runtime/retry.js';
import type { Runtime, StepRequest } from '../runtime/runtime.js';
import { type ContextBudget, textTokens } from './context-policy.js';
import type { SessionHistory } from './session-history.js';

export interface CompactionRun {
  history: SessionHistory;
  budget: ContextBudget & { compaction: NonNullable<ContextBudget['compaction']> };
  runtime: Runtime;
  /** Wraps the runtime for each summarizer request, so that a trace numbers each one's attempts from 1. */
  traced: (runtime: Runtime) => Runtime;
  retry: RetryPolicy;
  timeoutMs?: number;
  signal: AbortSignal;
  emit: (event: AgentEvent) => void;
}

export interface Compacted {
  summary: SummaryItem;
  usage: Usage;
}

/** Characters a token, as the context estimate counts them. */
const CHARS_PER_TOKEN = 4;
/** The prompt's headings and the role markers around it. */
const PROMPT_OVERHEAD_TOKENS = 64;
/** However little room a huge summary leaves, each request still moves the summary forward. */
const MIN_CHUNK_TOKENS = 256;

function ignoreEvent(): void {}

/** One transcript item as a line the summarizer reads; undefined for what it does not need. */
function lineOf(item: Item): string | undefined {
  switch (item.type) {
    case 'message': {
      const images = item.content.filter((part) => part.type === 'image').length;
      return `${item.role}: ${textOf(item)}${images > 0 ? ` [${images} image${images > 1 ? 's' : ''}]` : ''}`;
    }
    case 'tool_call':
      return `assistant called ${item.name}(${item.arguments}) [${item.callId}]`;
    case 'tool_result':
      return `tool result [${item.callId}]${item.isError ? ' (error)' : ''}: ${item.output}`;
    case 'reasoning':
      return item.summary ? `assistant thought: ${item.summary}` : undefined;
    case 'summary':
      // Superseded by the latest summary, which the summarizer already gets.
      return undefined;
  }
}

/**
 * Summarizes the session's items from the latest summary's end up to the newest part kept word
 * for word (`keepRecentTokens`, never cutting a tool call from its result), folding the previous
 * summary in. A part larger than one request is summarized in chunks, each chunk's summary
 * carried into the next: a long session that never had a summary is read once, page by page.
 * Returns undefined when there is nothing old enough to summarize; throws when the summarizer
 * fails or answers with nothing usable, and nothing is committed then.
 */
export async function compact(run: CompactionRun): Promise<Compacted | undefined> {
  const { history, budget } = run;
  const { keepRecentTokens } = budget.compaction;
  const previous = history.summary;
  const floor = previous?.covers.toVersion ?? 0;
  const kept = await history.newestWithin(floor, (_, tokens) => tokens <= keepRecentTokens);
  const cut = kept.start;
  if (cut <= floor) return undefined;

  let summaryText = previous?.text;
  let summarized = false;
  let usage = emptyUsage();
  let runtimeId = run.runtime.id;
  // A summarizer request stays within maxInputTokens, like any other: the lines get what the
  // instructions and the summary carried in leave of it.
  const fixedTokens = textTokens(budget.compaction.instructions) + PROMPT_OVERHEAD_TOKENS;
  const roomFor = (carried: string | undefined) =>
    Math.max(MIN_CHUNK_TOKENS, budget.maxInputTokens - fixedTokens - (carried ? textTokens(carried) : 0)) *
    CHARS_PER_TOKEN;
  let chunkChars = roomFor(summaryText);
  let lines: string[] = [];
  let chunkLength = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    const step = await summarize(run, summaryText, lines);
    summaryText = step.text;
    summarized = true;
    runtimeId = step.runtimeId;
    usage = addUsage(usage, step.usage);
    lines = [];
    chunkLength = 0;
    chunkChars = roomFor(summaryText);
  };
  for await (const item of history.range(floor, cut)) {
    let line = lineOf(item);
    if (line === undefined) continue;
    if (line.length > chunkChars) line = `${line.slice(0, chunkChars - 1)}…`;
    if (chunkLength + line.length > chunkChars) await flush();
    lines.push(line);
    chunkLength += line.length + 1;
  }
  await flush();
  if (!summarized || summaryText === undefined) return undefined;

  const summary = createItem<SummaryItem>({
    type: 'summary',
    text: summaryText,
    covers: { fromVersion: previous?.covers.fromVersion ?? 0, toVersion: cut },
    runtimeId,
  });
  run.emit({ type: 'compacted', fromVersion: summary.covers.fromVersion, toVersion: cut, runtimeId });
  return { summary, usage };
}

async function summarize(
  run: CompactionRun,
  previous: string | undefined,
  lines: string[],
): Promise<{ text: string; usage: Usage; runtimeId: string }> {
  const { runtime, budget } = run;
  const prompt = createItem<MessageItem>({
    type: 'message',
    role: 'user',
    content: [
      {
        type: 'text',
        text: `${previous === undefined ? '' : `Previous summary:\n${previous}\n\n`}Conversation:\n${lines.join('\n')}`,
      },
    ],
  });
  const request: StepRequest = {
    instructions: budget.compaction.instructions,
    items: [prompt],
    tools: [],
    stream: false,
  };
  const result = await stepWithRetry(run.traced(runtime), request, ignoreEvent, {
    policy: run.retry,
    signal: run.signal,
    runtimeId: runtime.id,
    timeoutMs: run.timeoutMs,
  });
  const text = lastAnswerText(result.items).trim();
  const runtimeId = result.runtimeId ?? runtime.id;
  const room = budget.compaction.triggerTokens - budget.compaction.keepRecentTokens;
  const tokens = textTokens(text);
  if (text === '' || tokens > room) {
    throw new CloudhopError(
      'provider_error',
      text === ''
        ? 'The compaction runtime sent an empty summary; nothing was compacted. Check compaction.runtime and compaction.instructions.'
        : `The summary is about ${tokens} tokens, over the ${room} that triggerTokens minus keepRecentTokens leaves; nothing was compacted. Ask for a shorter one in compaction.instructions.`,
      { runtimeId, retryable: false },
    );
  }
  return { text, usage: result.usage, runtimeId };
}
