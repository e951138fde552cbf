import type { CloudhopError } from '../core/errors.js';
import type { AgentEvent, FinishReason, RunResult } from '../core/events.js';
import { toolOutputOf, type UIMessageMetadata } from './ui-messages.js';

/**
 * The headers of the Vercel AI SDK's UI message stream protocol (v1): Server-Sent Events whose data
 * are JSON chunks, ending with `data: [DONE]`.
 */
export const UI_MESSAGE_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
};

/** The chunks of the protocol that cloudhop writes. */
export type UIMessageChunk =
  | { type: 'start'; messageId: string }
  | { type: 'start-step' }
  | { type: 'finish-step' }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | { type: 'tool-input-available'; toolCallId: string; toolName: string; input: unknown }
  | { type: 'tool-output-available'; toolCallId: string; output: unknown }
  | { type: 'tool-output-error'; toolCallId: string; errorText: string }
  | { type: 'error'; errorText: string }
  | { type: 'abort'; reason: string }
  | {
      type: 'finish';
      finishReason: 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'other';
      messageMetadata: UIMessageMetadata;
    };

const FINISH_REASONS = {
  stop: 'stop',
  tool_calls: 'tool-calls',
  length: 'length',
  content_filter: 'content-filter',
  other: 'other',
} as const satisfies Record<FinishReason, string>;

/**
 * The error text a failed turn shows in the UI: its code, not its message, which may describe the
 * server's setup (a store's address, a deployment name). Pass `onError` to show more.
 */
export function defaultErrorText(error: CloudhopError): string {
  return `An error occurred (${error.code}).`;
}

/**
 * Turns a turn's events into UI message chunks, as the AI SDK's `streamText` would for the same
 * answer: one assistant message; each model step between `start-step` and `finish-step`, holding
 * its text and its tool calls with their results (cloudhop runs tools after the step's model call,
 * so a step is closed once the next step begins or the turn ends).
 */
export class UIMessageChunks {
  /** none: no step open; open: the model is answering; answered: its tools may still report. */
  private step: 'none' | 'open' | 'answered' = 'none';
  private textId: string | undefined;
  private texts = 0;
  private shownText = false;
  private finishReason: FinishReason = 'stop';

  constructor(
    private readonly messageId: string,
    private readonly errorText: (error: CloudhopError) => string,
  ) {}

  start(): UIMessageChunk[] {
    return [{ type: 'start', messageId: this.messageId }];
  }

  event(event: AgentEvent): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    switch (event.type) {
      case 'text-delta':
        if (event.delta === '') break;
        this.text(event.delta, chunks);
        break;
      case 'tool-call':
        if (this.step === 'none') this.startStep(chunks);
        chunks.push({
          type: 'tool-input-available',
          toolCallId: event.callId,
          toolName: event.name,
          input: event.input,
        });
        break;
      case 'tool-result':
        chunks.push(
          event.isError
            ? { type: 'tool-output-error', toolCallId: event.callId, errorText: event.output }
            : { type: 'tool-output-available', toolCallId: event.callId, output: toolOutputOf(event.output) },
        );
        break;
      case 'step-finish':
        if (this.step === 'answered') this.finishStep(chunks);
        if (this.step === 'none') this.startStep(chunks);
        this.endText(chunks);
        this.step = 'answered';
        this.finishReason = event.finishReason;
        break;
    }
    return chunks;
  }

  finish(result: RunResult): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    // A turn returned from the store by its idempotency key streams no text: show its answer whole.
    if (!this.shownText && result.text !== '') this.text(result.text, chunks);
    this.endText(chunks);
    if (this.step !== 'none') this.finishStep(chunks);
    const metadata: UIMessageMetadata = {
      runtimeId: result.runtimeId,
      sessionVersion: result.sessionVersion,
      usage: result.usage,
    };
    chunks.push({
      type: 'finish',
      finishReason: FINISH_REASONS[this.finishReason],
      messageMetadata: metadata,
    });
    return chunks;
  }

  /** A failed turn ends with an `error` chunk (an aborted one with `abort`), as `streamText`'s do. */
  fail(error: CloudhopError): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    this.endText(chunks);
    chunks.push(
      error.code === 'aborted'
        ? { type: 'abort', reason: error.message }
        : { type: 'error', errorText: this.errorText(error) },
    );
    return chunks;
  }

  private text(delta: string, chunks: UIMessageChunk[]): void {
    if (this.step === 'answered') this.finishStep(chunks);
    if (this.step === 'none') this.startStep(chunks);
    if (this.textId === undefined) {
      this.texts += 1;
      this.textId = `text-${this.texts}`;
      chunks.push({ type: 'text-start', id: this.textId });
    }
    this.shownText = true;
    chunks.push({ type: 'text-delta', id: this.textId, delta });
  }

  private endText(chunks: UIMessageChunk[]): void {
    if (this.textId === undefined) return;
    chunks.push({ type: 'text-end', id: this.textId });
    this.textId = undefined;
  }

  private startStep(chunks: UIMessageChunk[]): void {
    chunks.push({ type: 'start-step' });
    this.step = 'open';
  }

  private finishStep(chunks: UIMessageChunk[]): void {
    chunks.push({ type: 'finish-step' });
    this.step = 'none';
  }
}
