export type {
  BedrockConverseOptions,
  BedrockCredentials,
  BedrockCredentialsProvider,
  BedrockInferenceConfig,
  BedrockRuntimeClientLike,
} from './runtimes/bedrock-converse/bedrock-converse-options.js';
export { bedrockConverse } from './runtimes/bedrock-converse/bedrock-converse-runtime.js';
export type { FrontierOptions } from './runtimes/responses/frontier.js';
export { frontier } from './runtimes/responses/frontier.js';
