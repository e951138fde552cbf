import { type IdRewriteRule, RewrittenIds, rewriteCallIds } from '../../runtime/rewrite-ids.js';
import type { StepRequest } from '../../runtime/runtime.js';

/**
 * What the providers behind the AI SDK all take as a tool call id (Anthropic's `tool_use.id` is
 * the strictest: `[a-zA-Z0-9_-]+`). Ids issued by a model fit, so a reply echoes them exactly; an id
 * another cloud issued in another shape becomes `cloudhop_<sha256>`.
 */
const SAFE_CALL_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/** What both Gemini (letter or underscore first) and Anthropic (`[a-zA-Z0-9_-]{1,64}`) accept as a tool name. */
const SAFE_TOOL_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/;
const TOOL_NAME_MAX = 64;
const HASH_LENGTH = 16;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A name that does not fit (`functions.lookup` from another provider's history) becomes its
 * allowed characters, cut to fit, plus a hash of the whole name: the model still reads what the
 * tool was, and two names never meet.
 */
const TOOL_NAME_RULE: IdRewriteRule = {
  accepts: (name) => SAFE_TOOL_NAME.test(name),
  rewrittenShape: /__[0-9a-f]{16}$/,
  rewrite(name, sha256) {
    let readable = name.replace(/[^a-zA-Z0-9_-]/g, '_');
    if (!/^[a-zA-Z_]/.test(readable)) readable = `_${readable}`;
    return `${readable.slice(0, TOOL_NAME_MAX - HASH_LENGTH - 2)}__${hex(sha256).slice(0, HASH_LENGTH)}`;
  },
};

export interface RequestIds {
  callIds: RewrittenIds;
  toolNames: RewrittenIds;
}

/** The call ids and tool names of one request, as every provider behind the AI SDK takes them. */
export async function requestIds(request: Pick<StepRequest, 'items' | 'tools'>): Promise<RequestIds> {
  const names = request.tools.map((tool) => tool.name);
  for (const item of request.items) if (item.type === 'tool_call') names.push(item.name);
  const [callIds, toolNames] = await Promise.all([
    rewriteCallIds(request.items, (id) => SAFE_CALL_ID.test(id)),
    RewrittenIds.for(names, TOOL_NAME_RULE),
  ]);
  return { callIds, toolNames };
}
