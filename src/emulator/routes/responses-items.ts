import * as z from 'zod/v4';
import { invalidRequest } from '../errors.js';
import type { Vendor } from '../http.js';
import { newIds } from '../ids.js';
import type { EmulatorContextEntry } from '../model.js';
import type { WireItem } from '../state.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const itemContent = z.union([z.string(), z.array(contentPart)]);

const KNOWN_ITEM_TYPES = new Set(['message', 'function_call', 'function_call_output']);

/** One input item of the Responses and Conversations APIs (the kinds the model reads; others are kept as given). */
export const inputItemSchema = z.union([
  z.looseObject({
    type: z.literal('message').optional(),
    id: z.string().optional(),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: itemContent,
  }),
  z.looseObject({
    type: z.literal('function_call'),
    id: z.string().optional(),
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  }),
  z.looseObject({
    type: z.literal('function_call_output'),
    id: z.string().optional(),
    call_id: z.string(),
    output: itemContent,
  }),
  z.looseObject({
    type: z.string().refine((type) => !KNOWN_ITEM_TYPES.has(type)),
    id: z.string().optional(),
  }),
]);

export type InputItem = z.infer<typeof inputItemSchema>;

/** The item as the server stores it and reads it back: with an id, a status, and content as parts. */
export function toWireItem(item: InputItem): WireItem {
  const type = item.type ?? 'message';
  if (type === 'message' && 'role' in item) {
    const role = item.role;
    const content =
      typeof item.content === 'string'
        ? [
            role === 'assistant'
              ? { type: 'output_text', text: item.content, annotations: [] }
              : { type: 'input_text', text: item.content },
          ]
        : item.content;
    return { ...item, id: item.id ?? newIds.message(), type: 'message', status: 'completed', role, content };
  }
  if (type === 'function_call')
    return { status: 'completed', ...item, id: item.id ?? newIds.functionCall(), type };
  if (type === 'function_call_output') {
    return { status: 'completed', ...item, id: item.id ?? newIds.functionCallOutput(), type };
  }
  return { ...item, id: item.id ?? newIds.item(), type };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      typeof part === 'object' && part !== null ? (part as { text?: unknown }).text : undefined,
    )
    .filter((text): text is string => typeof text === 'string')
    .join('');
}

/** What the model reads from stored items: messages, function calls and their outputs. */
export function itemsToEntries(items: WireItem[]): EmulatorContextEntry[] {
  const entries: EmulatorContextEntry[] = [];
  for (const item of items) {
    if (item.type === 'message') {
      const role = item.role === 'user' || item.role === 'assistant' ? item.role : 'system';
      entries.push({ type: 'message', role, text: textOf(item.content) });
    } else if (item.type === 'function_call') {
      entries.push({
        type: 'tool_call',
        callId: String(item.call_id),
        name: String(item.name),
        arguments: String(item.arguments),
      });
    } else if (item.type === 'function_call_output') {
      entries.push({ type: 'tool_result', callId: String(item.call_id), output: textOf(item.output) });
    }
  }
  return entries;
}

/** The Responses API rejects a function_call_output whose call is not in the context. */
export function checkCallOutputs(items: WireItem[], vendor: Vendor): void {
  const calls = new Set<string>();
  for (const item of items) {
    if (item.type === 'function_call') calls.add(String(item.call_id));
    if (item.type === 'function_call_output' && !calls.has(String(item.call_id))) {
      throw invalidRequest(
        vendor,
        `No tool call found for function call output with call_id ${String(item.call_id)}.`,
        'input',
      );
    }
  }
}

export interface ItemPage {
  object: 'list';
  data: WireItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** `limit` (1-100, default 20), `order` (default desc, newest first) and `after` (an item id), as the APIs page. */
export function listPage(items: WireItem[], query: URLSearchParams, vendor: Vendor): ItemPage {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidRequest(
      vendor,
      `Invalid 'limit': expected an integer from 1 to 100, got '${rawLimit}'.`,
      'limit',
    );
  }
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw invalidRequest(vendor, `Invalid 'order': expected 'asc' or 'desc', got '${order}'.`, 'order');
  }
  const ordered = order === 'desc' ? [...items].reverse() : items;
  const after = query.get('after');
  const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  const data = ordered.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}
