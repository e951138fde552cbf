import { type IdRewriteRule, RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { StepRequest } from '../../runtime/runtime.js';

/** Bedrock's ToolName: what `toolSpec.name`, `toolUse.name` and `toolChoice.tool.name` accept. */
const BEDROCK_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_NAME_MAX = 64;
const HASH_LENGTH = 16;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A name that does not fit (`functions.lookup` from another provider's history, a name over 64
 * characters) becomes its allowed characters, cut to fit, plus a hash of the whole name: the model
 * still reads what the tool was, and two names never meet.
 */
const BEDROCK_TOOL_NAME_RULE: IdRewriteRule = {
  accepts: (name) => BEDROCK_TOOL_NAME.test(name),
  rewrittenShape: /__[0-9a-f]{16}$/,
  rewrite(name, sha256) {
    const readable = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, TOOL_NAME_MAX - HASH_LENGTH - 2);
    return `${readable}__${hex(sha256).slice(0, HASH_LENGTH)}`;
  },
};

/**
 * The tool names of one request (the tools offered and the tools the transcript called). Names
 * that fit are sent as they are, so the model sees the user's tool names; a tool the model calls
 * by a rewritten name is stored under the user's name.
 */
export function bedrockToolNames(request: Pick<StepRequest, 'items' | 'tools'>): Promise<RewrittenIds> {
  const names = request.tools.map((tool) => tool.name);
  for (const item of request.items) if (item.type === 'tool_call') names.push(item.name);
  return RewrittenIds.for(names, BEDROCK_TOOL_NAME_RULE);
}
