import type { Item } from '../../core/items.js';

/** The Responses API refuses a `function_call_output.call_id` longer than this (its OpenAPI schema). */
const MAX_CALL_ID_LENGTH = 64;
const REWRITE_PREFIX = 'cloudhop_';
/** The shape of a rewritten id: the prefix and a base64url SHA-256 (43 characters). */
const REWRITTEN_ID = /^cloudhop_[A-Za-z0-9_-]{43}$/;

function fitsResponses(callId: string): boolean {
  return callId.length <= MAX_CALL_ID_LENGTH && !REWRITTEN_ID.test(callId);
}

/** `cloudhop_<base64url sha256>`: deterministic, so a call and its output, sent in different requests, still match. */
async function rewrite(callId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(callId)));
  const base64 = btoa(String.fromCharCode(...digest));
  return REWRITE_PREFIX + base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The `call_id`s of one request. Ids the Responses API accepts are sent as they are, so a reply to
 * a Responses server echoes its own `call_id` exactly; longer ones (another provider's) become
 * `cloudhop_<sha256>`, and ids that merely look rewritten are hashed too, so two different callIds
 * never meet on one wire id. Only ids this request rewrote are mapped back.
 */
export class CallIds {
  private readonly wireIds = new Map<string, string>();
  private readonly originals = new Map<string, string>();

  /** Prepares the rewrites `items` need (hashing is asynchronous on web-standard runtimes). */
  static async for(items: readonly Item[]): Promise<CallIds> {
    const ids = new CallIds();
    for (const item of items) {
      if (item.type !== 'tool_call' && item.type !== 'tool_result') continue;
      const { callId } = item;
      if (fitsResponses(callId) || ids.wireIds.has(callId)) continue;
      const wireId = await rewrite(callId);
      ids.wireIds.set(callId, wireId);
      ids.originals.set(wireId, callId);
    }
    return ids;
  }

  toResponses(callId: string): string {
    return this.wireIds.get(callId) ?? callId;
  }

  fromResponses(callId: string): string {
    return this.originals.get(callId) ?? callId;
  }
}
