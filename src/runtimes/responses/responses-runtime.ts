import type OpenAI from 'openai';
import { CloudhopError, messageOf } from '../../core/errors.js';
import type { Item } from '../../core/items.js';
import { redactSecrets } from '../../core/secrets.js';
import type { RemoteHandle } from '../../core/store.js';
import { byteLength } from '../../core/usage.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../../runtime/runtime.js';
import { responsesCallIds } from './call-ids.js';
import { convertToResponsesInput, hasReplayableReasoning } from './convert-to-responses-input.js';
import { loadOpenAI, type OpenAIModule } from './load-sdk.js';
import { mapResponsesFinishReason } from './map-responses-finish-reason.js';
import { mapResponsesOutput, mapResponsesUsage } from './map-responses-output.js';
import {
  malformedResponseError,
  mapResponsesError,
  type Recovery,
  recoveryFor,
  refusedByServer,
  type SentRequest,
} from './responses-errors.js';
import { readResponsesStream } from './responses-stream.js';
import type { InputItem, ResponsesRequestBody, WireResponse } from './responses-wire.js';

/**
 * How the server keeps the session: `previous-response` chains stored responses with
 * `store: true` + `previous_response_id`; `conversation` uses the Conversations API.
 */
export type ResponsesState = 'previous-response' | 'conversation';

export interface ResponsesRuntimeConfig {
  id: string;
  family: string;
  /** `gen_ai.provider.name` of the OpenTelemetry GenAI conventions. */
  provider: string;
  model: string;
  state: ResponsesState;
  /** Builds the configured client; called on the first step only (vendor SDKs load lazily). */
  createClient(sdk: OpenAIModule): Promise<OpenAI>;
}

interface Attempt {
  /** The remote state the request resumes from; undefined sends the whole transcript. */
  handle: RemoteHandle | undefined;
  replayReasoning: boolean;
}

/**
 * What the attempts at one step did to conversations. The agent retries a step with the same
 * request, so this outlives a failed attempt: a conversation is created once per step, and one
 * that may have taken in part of a failed attempt is never continued.
 */
interface ConversationStep {
  /** Created by this step and still holding nothing: a retry sends the context there again. */
  empty?: string;
  /**
   * Conversations a response request reached without a definite answer (a cut stream, a timeout):
   * they may hold its input and even its output, so what they hold is unknown.
   */
  unknown: Set<string>;
  /** The binding's conversation was given up for a new one (announced once). */
  bindingGivenUp: boolean;
}

/** One Responses-API runtime; `frontier`, `openaiResponses` and `azureResponses` configure it. */
export function createResponsesRuntime(config: ResponsesRuntimeConfig): Runtime {
  const { id, family, model, state } = config;
  let connecting: Promise<{ sdk: OpenAIModule; client: OpenAI }> | undefined;
  const conversationSteps = new WeakMap<StepRequest, ConversationStep>();
  // Models without encrypted reasoning reject the `include`; learned once, then not asked again.
  let askEncryptedReasoning = true;

  const connect = () => {
    connecting ??= (async () => {
      const sdk = await loadOpenAI();
      return { sdk, client: await config.createClient(sdk) };
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  const resumableHandle = (request: StepRequest): RemoteHandle | undefined => {
    const remote = request.remoteState?.remote;
    if (state === 'conversation') return remote?.conversationId ? remote : undefined;
    return remote?.responseId ? remote : undefined;
  };

  const conversationStep = (request: StepRequest): ConversationStep => {
    let progress = conversationSteps.get(request);
    if (!progress) {
      progress = { unknown: new Set(), bindingGivenUp: false };
      conversationSteps.set(request, progress);
    }
    return progress;
  };

  /** A binding whose conversation an earlier attempt left in an unknown state is reseeded instead. */
  const trustedHandle = (
    request: StepRequest,
    progress: ConversationStep | undefined,
    context: StepContext,
  ): RemoteHandle | undefined => {
    const handle = resumableHandle(request);
    if (!progress || !handle?.conversationId || !progress.unknown.has(handle.conversationId)) return handle;
    if (!progress.bindingGivenUp) {
      progress.bindingGivenUp = true;
      context.emit({
        type: 'session-reseeded',
        runtimeId: id,
        reason:
          'A failed attempt may have left part of this step in the conversation; reseeded a new conversation from the local transcript.',
      });
    }
    return undefined;
  };

  async function step(request: StepRequest, context: StepContext): Promise<StepResult> {
    const { sdk, client } = await connect().catch((error: unknown) => {
      throw setupError(error, id);
    });
    const requestOptions = {
      signal: context.signal,
      ...(context.timeoutMs !== undefined ? { timeout: context.timeoutMs } : {}),
    };
    const progress = state === 'conversation' ? conversationStep(request) : undefined;
    const attempt: Attempt = { handle: trustedHandle(request, progress, context), replayReasoning: true };
    let requestBytes = 0;
    // Read only when no handle can be continued (gone, or given up): the agent reads it from the store then.
    let wholeContext: Item[] | undefined;

    for (;;) {
      if (!attempt.handle && wholeContext === undefined) {
        wholeContext =
          request.remoteState && request.reseedItems ? await request.reseedItems() : request.items;
      }
      const items = attempt.handle ? request.items.slice(request.remoteState!.syncedCount) : wholeContext!;
      const callIds = await responsesCallIds(items);
      const sent: SentRequest = {
        usedHandle: attempt.handle !== undefined,
        askedEncryptedReasoning: askEncryptedReasoning,
        replayedReasoning: attempt.replayReasoning && hasReplayableReasoning(items, family),
      };
      let conversationId = attempt.handle?.conversationId;
      let responseRequested = false;
      try {
        if (progress && conversationId === undefined) {
          if (progress.empty === undefined) {
            const createBody = {};
            requestBytes += byteLength(JSON.stringify(createBody));
            progress.empty = (await client.conversations.create(createBody, requestOptions)).id;
          }
          conversationId = progress.empty;
        }
        const body = buildRequestBody(request, {
          model,
          input: convertToResponsesInput(items, {
            family,
            replayReasoning: attempt.replayReasoning,
            callIds,
          }),
          askEncryptedReasoning,
          ...(state === 'conversation'
            ? { conversation: conversationId }
            : { previousResponseId: attempt.handle?.responseId }),
        });
        requestBytes += byteLength(JSON.stringify(body));
        responseRequested = true;

        const response = request.stream
          ? await readResponsesStream(
              await client.responses.create(
                body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming,
                requestOptions,
              ),
              context.emit,
              id,
              context.signal,
            )
          : ((await client.responses.create(
              body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
              requestOptions,
            )) as unknown as WireResponse);

        // A failed response says why in `error`; any other needs an output to read the answer from.
        if (response.status !== 'failed' && !Array.isArray(response.output)) {
          throw malformedResponseError(response, id);
        }
        const finishReason = mapResponsesFinishReason(response, id);
        const remote: RemoteHandle =
          state === 'conversation'
            ? { conversationId, responseId: response.id }
            : { responseId: response.id };
        return {
          items: mapResponsesOutput(response.output, family, callIds),
          finishReason,
          usage: mapResponsesUsage(response.usage, requestBytes),
          remote,
          response: { id: response.id, model: response.model },
        };
      } catch (error) {
        if (progress && conversationId !== undefined && responseRequested && !refusedByServer(error, sdk)) {
          progress.unknown.add(conversationId);
          if (progress.empty === conversationId) progress.empty = undefined;
        }
        const recovery = recoveryFor(error, sdk, sent);
        if (recovery === undefined) throw mapResponsesError(error, sdk, id);
        applyRecovery(recovery, error, attempt, context);
      }
    }
  }

  function applyRecovery(recovery: Recovery, error: unknown, attempt: Attempt, context: StepContext): void {
    switch (recovery) {
      case 'handle-gone':
        attempt.handle = undefined;
        context.emit({ type: 'session-reseeded', runtimeId: id, reason: reseedReason(error) });
        break;
      case 'encrypted-include-unsupported':
        askEncryptedReasoning = false;
        break;
      case 'reasoning-rejected':
        attempt.replayReasoning = false;
        break;
    }
  }

  return { id, kind: 'stateful', family, provider: config.provider, model, step };
}

/** A client that cannot be built is a configuration problem (loading errors already are CloudhopErrors). */
function setupError(error: unknown, runtimeId: string): CloudhopError {
  if (error instanceof CloudhopError) return error;
  const message = messageOf(error);
  return new CloudhopError('invalid_config', `Could not set up the Responses client: ${message}`, {
    runtimeId,
    cause: error,
  });
}

function buildRequestBody(
  request: StepRequest,
  settings: {
    model: string;
    input: InputItem[];
    askEncryptedReasoning: boolean;
    conversation?: string | undefined;
    previousResponseId?: string | undefined;
  },
): ResponsesRequestBody {
  const body: ResponsesRequestBody = { model: settings.model, input: settings.input, store: true };
  if (request.instructions) body.instructions = request.instructions;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.parameters,
      strict: false,
    }));
  }
  if (request.output) {
    const { name, schema } = request.output;
    body.text = { format: { type: 'json_schema', name, schema, strict: false } };
  }
  if (settings.askEncryptedReasoning) body.include = ['reasoning.encrypted_content'];
  // `conversation` and `previous_response_id` are mutually exclusive.
  if (settings.conversation !== undefined) body.conversation = settings.conversation;
  else if (settings.previousResponseId !== undefined) body.previous_response_id = settings.previousResponseId;
  if (request.stream) body.stream = true;
  return body;
}

function reseedReason(error: unknown): string {
  const { status, code, message } = error as { status?: number; code?: string | null; message?: string };
  const what = code ?? (status !== undefined ? `HTTP ${status}` : 'not found');
  return redactSecrets(
    `The server no longer holds the remote session (${what}: ${message ?? ''}); reseeded it from the local transcript.`,
  );
}
