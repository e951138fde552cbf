export type { AiSdkLanguageModel } from './runtimes/ai-sdk/ai-sdk-model.js';
export type { AiSdkProviderOptions, AiSdkRuntimeOptions } from './runtimes/ai-sdk/ai-sdk-options.js';
export { aiSdkRuntime } from './runtimes/ai-sdk/ai-sdk-runtime.js';
