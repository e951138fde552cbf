import type { JSONSchema7 } from '@ai-sdk/provider';
import { CloudhopError } from '../../core/errors.js';
import type { Item } from '../../core/items.js';
import { byteLength } from '../../core/usage.js';
import { abortable, abortError } from '../../runtime/retry.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../../runtime/runtime.js';
import { type AiSdkErrorContext, toAiSdkError } from './ai-sdk-errors.js';
import { type RequestIds, requestIds } from './ai-sdk-ids.js';
import type {
  AiSdkLanguageModel,
  CallableModel,
  CallOptions,
  GenerateResult,
  Prompt,
} from './ai-sdk-model.js';
import { type AiSdkRuntimeOptions, checkModel, parseAiSdkOptions } from './ai-sdk-options.js';
import { genAiProviderName } from './ai-sdk-provider-name.js';
import { type AnswerContext, toStepResult } from './ai-sdk-result.js';
import { readAiSdkStream } from './ai-sdk-stream.js';
import { convertToAiSdkPrompt } from './convert-to-ai-sdk-prompt.js';
import { registerModelSecrets } from './model-secrets.js';

type SupportedUrls = Record<string, RegExp[]>;

/** JSON-schema names are limited to `[a-zA-Z0-9_-]{1,64}` by several providers. */
function schemaName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'output';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the context holds an image by a URL other than `data:`, which only the model's supportedUrls can settle. */
function hasImageUrls(items: readonly Item[]): boolean {
  return items.some(
    (item) =>
      item.type === 'message' &&
      item.content.some(
        (part) => part.type === 'image' && part.data === undefined && !part.url?.startsWith('data:'),
      ),
  );
}

/**
 * Whether the model fetches `url` itself: its `supportedUrls` maps media type patterns ('image/*',
 * '*', '*\/*', or a full type) to regular expressions on the lower-cased URL.
 */
function supportsUrl(urls: SupportedUrls, mediaType: string, url: string): boolean {
  const type = mediaType.toLowerCase();
  const topLevel = type.split('/')[0];
  for (const [pattern, regexes] of Object.entries(urls)) {
    const key = pattern.toLowerCase();
    const matches =
      key === '*' || key === '*/*' || key === type || key === `${topLevel}/*` || key === topLevel;
    if (
      matches &&
      Array.isArray(regexes) &&
      regexes.some((regex) => regex instanceof RegExp && regex.test(url))
    ) {
      return true;
    }
  }
  return false;
}

/** The request body the provider reports having sent, else the call itself: what this step cost on the wire. */
function requestBytes(body: unknown, options: CallOptions): number {
  try {
    if (typeof body === 'string') return byteLength(body);
    if (body !== undefined && body !== null) return byteLength(JSON.stringify(body));
    const { prompt, tools, responseFormat } = options;
    return byteLength(JSON.stringify({ prompt, tools, responseFormat }));
  } catch {
    return 0;
  }
}

function malformedAnswerError(context: AiSdkErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_error',
    `${context.provider} (model ${context.model}) answered doGenerate without a content list. Check that the model implements the AI SDK language model specification.`,
    { runtimeId: context.runtimeId, retryable: false },
  );
}

/**
 * Any Vercel AI SDK language model (specification v2, v3 or v4: `@ai-sdk/google`,
 * `@ai-sdk/anthropic`, `@ai-sdk/mistral`, …) as a stateless cloudhop runtime: every step sends the
 * whole context through the model's `doGenerate` / `doStream`. The id is
 * `ai-sdk:<provider>/<modelId>`; reasoning (and the signatures of text and tool calls) is replayed
 * only to a runtime of the same `family`, by default the model's provider id.
 */
export function aiSdkRuntime(model: AiSdkLanguageModel, options: AiSdkRuntimeOptions = {}): Runtime {
  const callable: CallableModel = checkModel(model);
  const parsed = parseAiSdkOptions(options);
  const provider = callable.provider;
  const modelId = callable.modelId;
  const specificationVersion = callable.specificationVersion;
  const id = `ai-sdk:${provider}/${modelId}`;
  const family = parsed.family ?? provider;
  const errorContext: AiSdkErrorContext = { runtimeId: id, provider, model: modelId };

  let supportedUrls: Promise<SupportedUrls> | undefined;
  const urlsOf = (): Promise<SupportedUrls> => {
    supportedUrls ??= Promise.resolve()
      .then(() => callable.supportedUrls)
      .then((urls) => (isRecord(urls) ? (urls as SupportedUrls) : {}))
      .catch(() => ({}));
    return supportedUrls;
  };

  function callOptions(
    request: StepRequest,
    prompt: Prompt,
    ids: RequestIds,
    signal: AbortSignal,
  ): CallOptions {
    const call: CallOptions = { prompt, abortSignal: signal };
    if (request.tools.length > 0) {
      call.tools = request.tools.map((tool) => ({
        type: 'function' as const,
        name: ids.toolNames.toWire(tool.name),
        ...(tool.description === undefined ? {} : { description: tool.description }),
        inputSchema: tool.parameters as JSONSchema7,
      }));
    }
    if (request.output) {
      call.responseFormat = {
        type: 'json',
        schema: request.output.schema as JSONSchema7,
        name: schemaName(request.output.name),
      };
    }
    if (parsed.maxOutputTokens !== undefined) call.maxOutputTokens = parsed.maxOutputTokens;
    if (parsed.temperature !== undefined) call.temperature = parsed.temperature;
    if (parsed.providerOptions)
      call.providerOptions = parsed.providerOptions as CallOptions['providerOptions'];
    return call;
  }

  async function step(request: StepRequest, context: StepContext): Promise<StepResult> {
    if (context.signal.aborted) throw abortError(context.signal);
    registerModelSecrets(model);
    try {
      const ids = await requestIds(request);
      const urls = hasImageUrls(request.items) ? await urlsOf() : {};
      const prompt = convertToAiSdkPrompt(request.items, {
        ...(request.instructions === undefined ? {} : { instructions: request.instructions }),
        family,
        specificationVersion,
        ids,
        supportsUrl: (mediaType, url) => supportsUrl(urls, mediaType, url),
      });
      const call = callOptions(request, prompt, ids, context.signal);
      const answerContext: AnswerContext = {
        ...errorContext,
        family,
        toolNames: ids.toolNames,
        requestBytes: 0,
      };

      if (request.stream) {
        const result = await abortable(Promise.resolve(callable.doStream(call)), context.signal, (late) => {
          late.stream?.cancel().catch(() => {});
        });
        const answer = await readAiSdkStream(result.stream, context);
        answerContext.requestBytes = requestBytes(result.request?.body, call);
        return toStepResult(answer, answerContext);
      }
      const result: GenerateResult = await abortable(
        Promise.resolve(callable.doGenerate(call)),
        context.signal,
      );
      if (!isRecord(result) || !Array.isArray(result.content)) throw malformedAnswerError(errorContext);
      answerContext.requestBytes = requestBytes(result.request?.body, call);
      return toStepResult(
        {
          content: result.content,
          finishReason: result.finishReason,
          usage: result.usage,
          ...(result.providerMetadata ? { providerMetadata: result.providerMetadata } : {}),
          response: {
            ...(result.response?.id ? { id: result.response.id } : {}),
            ...(result.response?.modelId ? { model: result.response.modelId } : {}),
          },
        },
        answerContext,
      );
    } catch (error) {
      throw toAiSdkError(error, context.signal, errorContext);
    }
  }

  return {
    id,
    kind: 'stateless',
    family,
    provider: genAiProviderName(provider),
    model: modelId,
    step,
  };
}
