import type { Item } from '../../core/items.js';
import { type RewrittenIds, rewriteCallIds } from '../../runtime/rewrite-ids.js';

/** The Responses API refuses a `function_call_output.call_id` longer than this (its OpenAPI schema). */
const MAX_CALL_ID_LENGTH = 64;

/**
 * The `call_id`s of one request. Ids the Responses API accepts are sent as they are, so a reply to
 * a Responses server echoes its own `call_id` exactly; longer ones (another provider's) become
 * `cloudhop_<sha256>`.
 */
export function responsesCallIds(items: readonly Item[]): Promise<RewrittenIds> {
  return rewriteCallIds(items, (callId) => callId.length <= MAX_CALL_ID_LENGTH);
}
