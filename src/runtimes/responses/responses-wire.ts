/**
 * The subset of the Responses API wire format this runtime sends and reads. Written out here
 * (rather than taken from the `openai` package's types) because the shapes we send are narrower
 * than the SDK's unions (no item ids on inputs, assistant history as plain text) and the shapes we
 * read must tolerate vendor extras (Azure `content_filters`, Bedrock omissions).
 */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}

export interface InputImagePart {
  type: 'input_image';
  image_url: string;
  detail: 'auto';
}

/**
 * Assistant history goes as string content: the schema's only assistant form with content parts is
 * the output message, which needs the server's own `id` and `status`.
 */
export type InputMessage =
  | { type: 'message'; role: 'user' | 'system'; content: Array<InputTextPart | InputImagePart> }
  | { type: 'message'; role: 'assistant'; content: string };

export interface FunctionCallInput {
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
}

export interface FunctionCallOutputInput {
  type: 'function_call_output';
  call_id: string;
  output: string;
}

export interface ReasoningSummaryText {
  type: 'summary_text';
  text: string;
}

export interface ReasoningInput {
  type: 'reasoning';
  id: string;
  summary: ReasoningSummaryText[];
  encrypted_content?: string;
}

export type InputItem = InputMessage | FunctionCallInput | FunctionCallOutputInput | ReasoningInput;

export interface FunctionToolParam {
  type: 'function';
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict: false;
}

export interface ResponsesRequestBody {
  model: string;
  input: InputItem[];
  instructions?: string;
  tools?: FunctionToolParam[];
  text?: { format: { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict: false } };
  store: true;
  include?: ['reasoning.encrypted_content'];
  previous_response_id?: string;
  conversation?: string;
  stream?: true;
}

/** What the runtime keeps in `ReasoningItem.provider.data` to replay a reasoning item to its family. */
export interface ReasoningReplayData {
  id: string;
  summary: ReasoningSummaryText[];
  encrypted_content?: string;
}

export interface WireOutputContent {
  type: string;
  text?: string;
  refusal?: string;
}

export interface WireOutputItem {
  type: string;
  id?: string;
  role?: string;
  content?: WireOutputContent[];
  call_id?: string;
  name?: string;
  arguments?: string;
  summary?: Array<{ type?: string; text?: string }>;
  encrypted_content?: string | null;
}

export interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface WireError {
  code?: string | null;
  message?: string | null;
  type?: string | null;
  param?: string | null;
}

export interface WireContentFilter {
  blocked?: boolean;
  source_type?: string;
  content_filter_results?: Record<string, { filtered?: boolean } | undefined>;
}

export interface WireResponse {
  id: string;
  model?: string;
  status?: string;
  output?: WireOutputItem[];
  usage?: WireUsage | null;
  error?: WireError | null;
  incomplete_details?: { reason?: string | null } | null;
  conversation?: { id?: string } | null;
  /** Azure OpenAI only. */
  content_filters?: WireContentFilter[] | null;
}
