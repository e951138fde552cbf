export type { AzureChatOptions } from './runtimes/chat-completions/azure-chat.js';
export { azureChat } from './runtimes/chat-completions/azure-chat.js';
export type { AzureResponsesOptions } from './runtimes/responses/azure-responses.js';
export { azureResponses } from './runtimes/responses/azure-responses.js';
