import * as z from 'zod/v4';
import { openaiError, parseBody } from '../errors.js';
import { jsonReply, type Reply, type RouteDefinition, type RouteInput, type RouteServices } from '../http.js';
import { newIds } from '../ids.js';
import type { StoredConversation } from '../state.js';
import { conversationNotFound } from './responses.js';
import { inputItemSchema, listPage, toWireItem } from './responses-items.js';

/** Both create and add-items take at most 20 items per call. */
const MAX_ITEMS_PER_CALL = 20;

const metadataSchema = z.record(z.string(), z.string()).nullable().optional();

const createBody = z
  .looseObject({
    items: z.array(inputItemSchema).max(MAX_ITEMS_PER_CALL).nullable().optional(),
    metadata: metadataSchema,
  })
  .optional();

const updateBody = z.looseObject({ metadata: z.record(z.string(), z.string()).nullable() });

const addItemsBody = z.looseObject({ items: z.array(inputItemSchema).max(MAX_ITEMS_PER_CALL) });

function resource(conversation: StoredConversation) {
  return {
    id: conversation.id,
    object: 'conversation',
    created_at: Math.floor(conversation.createdAt / 1000),
    metadata: conversation.metadata,
  };
}

function find(input: RouteInput, services: RouteServices): StoredConversation {
  const id = input.params[0]!;
  const conversation = services.state.getConversation(id);
  if (conversation === undefined) throw conversationNotFound(id);
  return conversation;
}

function createConversation(input: RouteInput, services: RouteServices): Reply {
  const body = parseBody(createBody, input.body, input.vendor) ?? {};
  const conversation: StoredConversation = {
    id: newIds.conversation(),
    createdAt: Date.now(),
    metadata: body.metadata ?? {},
    items: (body.items ?? []).map(toWireItem),
  };
  services.state.putConversation(conversation);
  return jsonReply(200, resource(conversation));
}

function updateConversation(input: RouteInput, services: RouteServices): Reply {
  const conversation = find(input, services);
  conversation.metadata = parseBody(updateBody, input.body, input.vendor).metadata ?? {};
  return jsonReply(200, resource(conversation));
}

function deleteConversation(input: RouteInput, services: RouteServices): Reply {
  const { id } = find(input, services);
  services.state.deleteConversation(id);
  return jsonReply(200, { id, object: 'conversation.deleted', deleted: true });
}

function addItems(input: RouteInput, services: RouteServices): Reply {
  const conversation = find(input, services);
  const added = parseBody(addItemsBody, input.body, input.vendor).items.map(toWireItem);
  conversation.items.push(...added);
  return jsonReply(200, {
    object: 'list',
    data: added,
    first_id: added[0]?.id ?? null,
    last_id: added.at(-1)?.id ?? null,
    has_more: false,
  });
}

function itemNotFound(conversationId: string, itemId: string): Reply {
  return openaiError(404, `Item with id '${itemId}' not found in conversation '${conversationId}'.`);
}

function getItem(input: RouteInput, services: RouteServices): Reply {
  const conversation = find(input, services);
  const itemId = input.params[1]!;
  const item = conversation.items.find((candidate) => candidate.id === itemId);
  return item === undefined ? itemNotFound(conversation.id, itemId) : jsonReply(200, item);
}

function deleteItem(input: RouteInput, services: RouteServices): Reply {
  const conversation = find(input, services);
  const itemId = input.params[1]!;
  const index = conversation.items.findIndex((candidate) => candidate.id === itemId);
  if (index < 0) return itemNotFound(conversation.id, itemId);
  conversation.items.splice(index, 1);
  // As documented: deleting an item answers with the conversation, not the item.
  return jsonReply(200, resource(conversation));
}

const PREFIX = '(?:/v1|/openai/v1|/openai)';
const conversationPath = new RegExp(`^${PREFIX}/conversations/([^/]+)$`);
const itemsPath = new RegExp(`^${PREFIX}/conversations/([^/]+)/items$`);
const itemPath = new RegExp(`^${PREFIX}/conversations/([^/]+)/items/([^/]+)$`);

export const conversationRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    pattern: new RegExp(`^${PREFIX}/conversations$`),
    route: 'conversations',
    handle: createConversation,
  },
  {
    method: 'GET',
    pattern: conversationPath,
    route: 'conversations',
    handle: (i, s) => jsonReply(200, resource(find(i, s))),
  },
  { method: 'POST', pattern: conversationPath, route: 'conversations', handle: updateConversation },
  { method: 'DELETE', pattern: conversationPath, route: 'conversations', handle: deleteConversation },
  {
    method: 'GET',
    pattern: itemsPath,
    route: 'conversations',
    handle: (i, s) => jsonReply(200, listPage(find(i, s).items, i.query, i.vendor)),
  },
  { method: 'POST', pattern: itemsPath, route: 'conversations', handle: addItems },
  { method: 'GET', pattern: itemPath, route: 'conversations', handle: getItem },
  { method: 'DELETE', pattern: itemPath, route: 'conversations', handle: deleteItem },
];
