export type { OpenAIChatOptions } from './runtimes/chat-completions/openai-chat.js';
export { openaiChat } from './runtimes/chat-completions/openai-chat.js';
