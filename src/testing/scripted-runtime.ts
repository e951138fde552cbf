import * as z from 'zod/v4';
import { CloudhopError } from '../core/errors.js';
import type { FinishReason } from '../core/events.js';
import { createItem, type Item, type MessageItem, type ToolCallItem } from '../core/items.js';
import { parseOptions } from '../core/options.js';
import { byteLength, type Usage } from '../core/usage.js';
import { abortError, sleep } from '../runtime/retry.js';
import type { Runtime, StepRequest, StepResult } from '../runtime/runtime.js';

/** One scripted model step: a text answer, tool calls, or a failure. */
export type ScriptedStep =
  | string
  | {
      text?: string;
      toolCalls?: Array<{ name: string; arguments: unknown; callId?: string }>;
      /** Thrown instead of answering (e.g. a retryable rate_limited error). */
      error?: CloudhopError;
      /** Wait this long (abortable) before answering. */
      delayMs?: number;
      finishReason?: FinishReason;
    };

export type Script =
  | ScriptedStep[]
  | ((request: StepRequest, stepIndex: number) => ScriptedStep | Promise<ScriptedStep>);

export interface ScriptedRuntimeOptions {
  id?: string;
  family?: string;
}

export interface ScriptedRuntime extends Runtime {
  /** Every request the runtime received, in order: assert on what a runtime would have been sent. */
  readonly requests: StepRequest[];
}

const optionsSchema = z
  .object({ id: z.string().min(1).optional(), family: z.string().min(1).optional() })
  .strict();

let callCounter = 0;

/**
 * A stateless runtime that answers from a script instead of a model: for testing agents, tools and
 * stores without a network. A list is consumed step by step; a function is asked for every step.
 */
export function scriptedRuntime(script: Script, options: ScriptedRuntimeOptions = {}): ScriptedRuntime {
  if (!Array.isArray(script) && typeof script !== 'function') {
    throw new CloudhopError(
      'invalid_config',
      'scriptedRuntime: the script must be an array of steps or a function (request, index) => step.',
    );
  }
  const parsed = parseOptions(optionsSchema, options, 'scriptedRuntime');
  const requests: StepRequest[] = [];
  const id = parsed.id ?? 'scripted';

  async function nextStep(request: StepRequest, index: number): Promise<ScriptedStep> {
    if (typeof script === 'function') return script(request, index);
    const step = script[index];
    if (step === undefined) {
      throw new CloudhopError(
        'provider_error',
        `scriptedRuntime "${id}" has no step ${index + 1}: the script has ${script.length}. Add steps to the script.`,
        {
          runtimeId: id,
          retryable: false,
        },
      );
    }
    return step;
  }

  return {
    id,
    kind: 'stateless',
    family: parsed.family ?? 'scripted',
    requests,
    async step(request, context): Promise<StepResult> {
      const index = requests.length;
      requests.push(request);
      const scripted = await nextStep(request, index);
      const step = typeof scripted === 'string' ? { text: scripted } : scripted;
      if (step.delayMs) await sleep(step.delayMs, context.signal);
      if (context.signal.aborted) throw abortError(context.signal);
      if (step.error) throw step.error;
      const items: Item[] = [];
      if (step.text !== undefined && step.text !== '') {
        if (request.stream) {
          for (const piece of step.text.match(/\S+\s*|\s+/g) ?? [])
            context.emit({ type: 'text-delta', delta: piece });
        }
        items.push(
          createItem<MessageItem>({
            type: 'message',
            role: 'assistant',
            content: [{ type: 'text', text: step.text }],
          }),
        );
      }
      for (const call of step.toolCalls ?? []) {
        callCounter += 1;
        items.push(
          createItem<ToolCallItem>({
            type: 'tool_call',
            callId: call.callId ?? `call_scripted_${callCounter}`,
            name: call.name,
            arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
          }),
        );
      }
      const requestBytes = byteLength(
        JSON.stringify({ instructions: request.instructions, items: request.items, tools: request.tools }),
      );
      const inputTokens = Math.ceil(requestBytes / 4);
      const outputTokens = Math.ceil(JSON.stringify(items).length / 4);
      const usage: Usage = {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        requestBytes,
      };
      const finishReason = step.finishReason ?? (step.toolCalls?.length ? 'tool_calls' : 'stop');
      return { items, finishReason, usage };
    },
  };
}
