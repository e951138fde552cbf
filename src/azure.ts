export type { AzureChatOptions } from './runtimes/chat-completions/azure-chat.js';
export { azureChat } from './runtimes/chat-completions/azure-chat.js';
