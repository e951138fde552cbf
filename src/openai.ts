export type { OpenAIChatOptions } from './runtimes/chat-completions/openai-chat.js';
export { openaiChat } from './runtimes/chat-completions/openai-chat.js';
export type { OpenAIResponsesOptions } from './runtimes/responses/openai-responses.js';
export { openaiResponses } from './runtimes/responses/openai-responses.js';
