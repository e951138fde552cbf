import * as z from 'zod/v4';
import { newId, nowIso } from './ids.js';

/** Schemas used over and over (zod schemas are immutable, so one instance serves every field). */
export const nonEmpty = z.string().min(1);
export const count = z.number().int().nonnegative();

export const textPartSchema = z.object({ type: z.literal('text'), text: z.string() }).strict();
export const imagePartSchema = z
  .object({
    type: z.literal('image'),
    mediaType: nonEmpty,
    data: z.string().optional(),
    url: z.string().optional(),
  })
  .strict()
  .refine((part) => part.data !== undefined || part.url !== undefined, {
    message: 'an image part needs `data` (base64) or `url`',
  });
export const partSchema = z.union([textPartSchema, imagePartSchema]);

const itemBase = { id: nonEmpty, createdAt: nonEmpty };

/** A model step's token counts; `requestBytes` is kept when the step reported it. */
export const stepUsageSchema = z
  .object({
    inputTokens: count,
    outputTokens: count,
    totalTokens: count,
    cachedInputTokens: count.optional(),
    reasoningTokens: count.optional(),
    requestBytes: count.optional(),
  })
  .strict();

/**
 * What an item a runtime produced records: the runtime that answered (behind failover, the member),
 * and on the first item of each model step the step's usage, so a session's cost can be read back
 * from the store.
 */
const producedBy = { runtimeId: nonEmpty.optional(), usage: stepUsageSchema.optional() };

export const messageItemSchema = z
  .object({
    type: z.literal('message'),
    ...itemBase,
    role: z.enum(['user', 'assistant', 'system']),
    content: z.array(partSchema),
    ...producedBy,
  })
  .strict();

export const toolCallItemSchema = z
  .object({
    type: z.literal('tool_call'),
    ...itemBase,
    callId: nonEmpty,
    name: nonEmpty,
    arguments: z.string(),
    ...producedBy,
  })
  .strict();

export const toolResultItemSchema = z
  .object({
    type: z.literal('tool_result'),
    ...itemBase,
    callId: nonEmpty,
    output: z.string(),
    isError: z.boolean().optional(),
  })
  .strict();

export const reasoningItemSchema = z
  .object({
    type: z.literal('reasoning'),
    ...itemBase,
    summary: z.string().optional(),
    provider: z.object({ family: nonEmpty, data: z.unknown() }).strict().optional(),
    ...producedBy,
  })
  .strict();

/**
 * A portable summary of the session's items at positions `covers.fromVersion` to
 * `covers.toVersion` (exclusive), appended to the log like any item: runtimes receive it as plain
 * text, so it moves between clouds, and the items it covers stay in the store.
 */
export const summaryItemSchema = z
  .object({
    type: z.literal('summary'),
    ...itemBase,
    text: nonEmpty,
    covers: z
      .object({
        fromVersion: count,
        toVersion: count,
      })
      .strict()
      .refine((covers) => covers.fromVersion <= covers.toVersion, {
        message: 'fromVersion must not be after toVersion',
        path: ['toVersion'],
      }),
    /** The runtime that wrote the summary, and what summarizing cost. */
    ...producedBy,
  })
  .strict();

const itemSchemasV1 = [
  messageItemSchema,
  toolCallItemSchema,
  toolResultItemSchema,
  reasoningItemSchema,
] as const;

/** The items of transcript v1 (no summaries). */
export const itemSchemaV1: z.ZodType<Exclude<Item, SummaryItem>> = z.discriminatedUnion(
  'type',
  itemSchemasV1,
);

/**
 * Typed as `ZodType<Item>` rather than inferred: the inferred `ZodDiscriminatedUnion<…, "type">`
 * has a second type argument that zod 3.25's `zod/v4` does not have, so the published declarations
 * would not compile there (and `Item` would silently become `any` under skipLibCheck).
 */
export const itemSchema: z.ZodType<Item> = z.discriminatedUnion('type', [
  ...itemSchemasV1,
  summaryItemSchema,
]);

export type TextPart = z.infer<typeof textPartSchema>;
export type ImagePart = z.infer<typeof imagePartSchema>;
export type Part = z.infer<typeof partSchema>;
export type MessageItem = z.infer<typeof messageItemSchema>;
export type ToolCallItem = z.infer<typeof toolCallItemSchema>;
export type ToolResultItem = z.infer<typeof toolResultItemSchema>;
export type ReasoningItem = z.infer<typeof reasoningItemSchema>;
export type SummaryItem = z.infer<typeof summaryItemSchema>;
export type StepUsage = z.infer<typeof stepUsageSchema>;
export type Item = MessageItem | ToolCallItem | ToolResultItem | ReasoningItem | SummaryItem;

type NewItem<T extends Item> = Omit<T, 'id' | 'createdAt'>;

/** Stamps a cloudhop id and creation time on an item a runtime or the agent produced. */
export function createItem<T extends Item>(item: NewItem<T>): T {
  // Object.assign rather than a spread: items come in many shapes, and V8's spread is several times
  // slower once a call site has seen more than a few (it runs on every item of every turn).
  const stamped = Object.assign({}, item) as T;
  stamped.id = newId();
  stamped.createdAt = nowIso();
  return stamped;
}

export function textOf(item: MessageItem): string {
  return item.content
    .filter((part): part is TextPart => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

/** The text of the last assistant message among `items`, or '' when there is none. */
export function lastAnswerText(items: readonly Item[]): string {
  const message = items.findLast(
    (item): item is MessageItem => item.type === 'message' && item.role === 'assistant',
  );
  return message ? textOf(message) : '';
}
