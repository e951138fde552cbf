import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
} from '@ai-sdk/provider';

/** The versions of the AI SDK language model specification cloudhop speaks. */
export const SPECIFICATION_VERSIONS = ['v2', 'v3', 'v4'] as const;
export type SpecificationVersion = (typeof SPECIFICATION_VERSIONS)[number];

/**
 * A language model of the Vercel AI SDK provider specification, v2 (AI SDK 5), v3 (AI SDK 6) or v4
 * (AI SDK 7): what `google('gemini-2.5-flash')`, `anthropic('claude-sonnet-4-5')` and every other
 * `@ai-sdk/*` provider return. Typed structurally, so cloudhop's declarations need no
 * `@ai-sdk/provider` of a particular major: `LanguageModelV2`, `LanguageModelV3` and
 * `LanguageModelV4` all fit.
 */
export interface AiSdkLanguageModel {
  readonly specificationVersion: SpecificationVersion;
  /** The provider id, e.g. 'google.generative-ai', 'anthropic.messages'. */
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: never): PromiseLike<unknown>;
  doStream(options: never): PromiseLike<unknown>;
}

/**
 * How cloudhop calls a model, whatever its version: with v4 call options (v2 and v3 models get
 * their file parts in the older form, see `toSpecificationPrompt`), reading the union of what the
 * versions answer.
 */
export interface CallableModel {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls?: unknown;
  doGenerate(options: LanguageModelV4CallOptions): PromiseLike<GenerateResult>;
  doStream(options: LanguageModelV4CallOptions): PromiseLike<StreamResult>;
}

/** v2 reports usage flat, v3 and v4 nested. */
export interface FlatUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  reasoningTokens?: number;
  cachedInputTokens?: number;
}

export type AnyUsage = LanguageModelV4Usage | FlatUsage;

/** v2 reports the finish reason as a string, v3 and v4 as `{ unified, raw }`. */
export type AnyFinishReason = LanguageModelV4FinishReason | string;

export type ProviderMetadata = SharedV4ProviderMetadata;
export type Prompt = LanguageModelV4Prompt;
export type CallOptions = LanguageModelV4CallOptions;
export type ContentPart = LanguageModelV4Content;

export interface GenerateResult {
  content: ContentPart[];
  finishReason: AnyFinishReason;
  usage: AnyUsage;
  providerMetadata?: ProviderMetadata;
  request?: { body?: unknown };
  response?: { id?: string; modelId?: string };
}

export type StreamPart =
  | Exclude<LanguageModelV4StreamPart, { type: 'finish' }>
  | { type: 'finish'; usage: AnyUsage; finishReason: AnyFinishReason; providerMetadata?: ProviderMetadata };

export interface StreamResult {
  stream: ReadableStream<StreamPart>;
  request?: { body?: unknown };
}
