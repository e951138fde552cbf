import * as z from 'zod/v4';
import { failConfig, isObject, parseOptions } from '../../core/options.js';
import {
  type AiSdkLanguageModel,
  type CallableModel,
  SPECIFICATION_VERSIONS,
  type SpecificationVersion,
} from './ai-sdk-model.js';

/** Provider options as the AI SDK passes them: `{ [provider]: { [option]: JSON value } }`. */
export type AiSdkProviderOptions = Record<string, Record<string, unknown>>;

export interface AiSdkRuntimeOptions {
  /**
   * Which reasoning items this runtime may receive: reasoning (and the signatures that come with
   * text and tool calls) is replayed only to a runtime of the same family. Default: the model's
   * provider id, e.g. 'google.generative-ai' or 'anthropic.messages'.
   */
  family?: string;
  /**
   * Sent with every request as the AI SDK's `providerOptions`, e.g.
   * `{ google: { thinkingConfig: { includeThoughts: true } } }` or
   * `{ anthropic: { thinking: { type: 'enabled', budgetTokens: 4000 } } }`.
   */
  providerOptions?: AiSdkProviderOptions;
  /** The most tokens a step may generate (the AI SDK's `maxOutputTokens`). Default: the provider's. */
  maxOutputTokens?: number;
  /** Sampling temperature. Default: the provider's. */
  temperature?: number;
}

const optionsSchema = z.strictObject({
  family: z
    .string({ error: 'must be a string naming the provider family, e.g. "google.generative-ai"' })
    .trim()
    .min(1, 'must not be empty')
    .optional(),
  providerOptions: z
    .record(z.string(), z.record(z.string(), z.unknown()), {
      error: 'must be an object keyed by provider, e.g. { google: { ... } }',
    })
    .optional(),
  maxOutputTokens: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be 1 or more')
    .optional(),
  temperature: z.number({ error: 'must be a number' }).min(0, 'must be 0 or more').optional(),
});

const WHERE = 'aiSdkRuntime';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks that `model` is a language model of a specification version cloudhop speaks, and says
 * what to pass instead when it is not.
 */
export function checkModel(model: unknown): CallableModel {
  const fail = (what: string): never =>
    failConfig(
      `${WHERE}: option "model": ${what}. Pass a language model object of an AI SDK provider, e.g. aiSdkRuntime(google('gemini-2.5-flash')) with google from '@ai-sdk/google'.`,
      'model',
    );
  if (typeof model === 'string') {
    fail(
      `got ${describeValue(model)}; model id strings (the AI Gateway's 'provider/model') are not resolved here`,
    );
  }
  if (!isObject(model) && typeof model !== 'function') fail(`got ${describeValue(model)}`);
  const candidate = model as Record<string, unknown>;
  const version = candidate.specificationVersion;
  if (typeof candidate.doGenerate !== 'function' || typeof candidate.doStream !== 'function') {
    if (typeof candidate.languageModel === 'function') {
      fail('got a provider, not one of its models; call it with a model id first');
    }
    fail(`got ${describeValue(model)} without doGenerate and doStream methods`);
  }
  if (!SPECIFICATION_VERSIONS.includes(version as SpecificationVersion)) {
    fail(
      `the model implements specification version ${JSON.stringify(version)}; cloudhop speaks ${SPECIFICATION_VERSIONS.join(', ')} (the providers of AI SDK 5, 6 and 7): upgrade the provider package`,
    );
  }
  if (typeof candidate.provider !== 'string' || candidate.provider === '')
    fail('the model names no provider');
  if (typeof candidate.modelId !== 'string' || candidate.modelId === '') fail('the model has no modelId');
  return model as CallableModel;
}

export function parseAiSdkOptions(options: unknown): z.output<typeof optionsSchema> {
  return parseOptions(optionsSchema, options ?? {}, WHERE);
}

export type { AiSdkLanguageModel };
