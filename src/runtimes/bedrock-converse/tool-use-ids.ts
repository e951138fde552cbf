import type { Item } from '../../core/items.js';
import { type RewrittenIds, rewriteCallIds } from '../../runtime/rewrite-ids.js';

/**
 * What every model behind Converse accepts as a `toolUseId` (Bedrock's own pattern also allows
 * `.` and `:`, but some models behind it do not).
 */
const BEDROCK_SAFE_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * The `toolUseId`s of one request: ids Bedrock accepts are sent as they are, so a reply to
 * Bedrock echoes its own `toolUseId` exactly; any other id (another provider's) becomes
 * `cloudhop_<sha256>`.
 */
export function bedrockToolUseIds(items: readonly Item[]): Promise<RewrittenIds> {
  return rewriteCallIds(items, (id) => BEDROCK_SAFE_ID.test(id));
}
