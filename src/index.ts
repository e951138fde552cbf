export type { CompactionOptions, ContextPolicy } from './agent/context-policy.js';
export type { Price, Prices } from './agent/cost.js';
export type {
  Agent,
  AgentInput,
  AgentOptions,
  AgentSession,
  RunOptions,
  SessionItemsOptions,
} from './agent/create-agent.js';
export { createAgent } from './agent/create-agent.js';
export type { AgentStream } from './agent/event-stream.js';
export type { Tool, ToolContext, ToolDefinition } from './agent/tool.js';
export { tool } from './agent/tool.js';
export type { TelemetryOptions, TelemetryTracer } from './agent/turn-trace.js';
export type { ToolUIPart, UIMessage, UIMessageMetadata, UIMessagePart } from './agent/ui-messages.js';
export { toUIMessages } from './agent/ui-messages.js';
export type {
  NodeResponseLike,
  PipeToNodeResponseOptions,
  UIMessageStreamResponseInit,
  WebStreamFormat,
} from './agent/web-responses.js';
export type { CloudhopErrorCode, CloudhopErrorOptions } from './core/errors.js';
export { CloudhopError, ERROR_CODES } from './core/errors.js';
export type {
  AgentEvent,
  Cost,
  FinishReason,
  RunResult,
  RuntimeCost,
  RuntimeEvent,
} from './core/events.js';
export { newId } from './core/ids.js';
export type {
  ImagePart,
  Item,
  MessageItem,
  Part,
  ReasoningItem,
  StepUsage,
  SummaryItem,
  TextPart,
  ToolCallItem,
  ToolResultItem,
} from './core/items.js';
export { createItem, itemSchema, partSchema } from './core/items.js';
export type {
  AppendOptions,
  Binding,
  Lease,
  ListOptions,
  ListResult,
  LoadOptions,
  LockOptions,
  RemoteHandle,
  SessionKey,
  SessionSnapshot,
  SessionStore,
} from './core/store.js';
export { DEFAULT_NAMESPACE, windowOf } from './core/store.js';
export type {
  TranscriptFile,
  TranscriptFileV1,
  TranscriptFileV2,
  TranscriptFormat,
} from './core/transcript.js';
export {
  exportSession,
  importSession,
  parseTranscript,
  TRANSCRIPT_FORMAT,
  TRANSCRIPT_FORMAT_V1,
  TRANSCRIPT_FORMATS,
} from './core/transcript.js';
export type { Usage } from './core/usage.js';
export type { FailoverOptions } from './runtime/failover.js';
export { failover } from './runtime/failover.js';
export type { RetryPolicy } from './runtime/retry.js';
export { DEFAULT_RETRY_POLICY, parseRetryAfter } from './runtime/retry.js';
export type {
  DispatchContext,
  OutputSpec,
  RemoteState,
  Runtime,
  StepContext,
  StepRequest,
  StepResult,
  ToolSpec,
} from './runtime/runtime.js';
export { memoryStore } from './stores/memory.js';
