import { createHash } from 'node:crypto';

/**
 * What every model behind Converse accepts as a `toolUseId` (Bedrock's own pattern also allows
 * `.` and `:`, but some models behind it do not).
 */
const BEDROCK_SAFE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const REWRITE_PREFIX = 'cloudhop_';
/** The shape of a rewritten id: the prefix and a base64url SHA-256 (43 characters). */
const REWRITTEN_ID = /^cloudhop_[A-Za-z0-9_-]{43}$/;

/**
 * The id Bedrock gets for one of our `callId`s. Ids that already fit are sent as they are, so a
 * reply to Bedrock echoes its own `toolUseId` exactly; any other id becomes `cloudhop_<sha256>`.
 * Ids that merely look rewritten are hashed too, so two different callIds can never meet on the
 * same Bedrock id.
 */
export function toBedrockToolUseId(callId: string): string {
  if (BEDROCK_SAFE_ID.test(callId) && !REWRITTEN_ID.test(callId)) return callId;
  return REWRITE_PREFIX + createHash('sha256').update(callId, 'utf8').digest('base64url');
}

/**
 * The translation for one request: remembers which callIds were rewritten, so an id Bedrock
 * hands back is mapped to the original only when it is one of ours; every other `toolUseId` is
 * Bedrock's and kept opaque.
 */
export class ToolUseIds {
  private readonly originals = new Map<string, string>();

  toBedrock(callId: string): string {
    const toolUseId = toBedrockToolUseId(callId);
    if (toolUseId !== callId) this.originals.set(toolUseId, callId);
    return toolUseId;
  }

  fromBedrock(toolUseId: string): string {
    return this.originals.get(toolUseId) ?? toolUseId;
  }
}
