import { createHash } from 'node:crypto';

/** Bedrock's ToolName: what `toolSpec.name`, `toolUse.name` and `toolChoice.tool.name` accept. */
const BEDROCK_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_NAME_MAX = 64;
const HASH_LENGTH = 16;
/** The shape of a rewritten name: a readable part, `__` and 16 hex digits of a SHA-256. */
const REWRITTEN_NAME = /__[0-9a-f]{16}$/;

/**
 * The name Bedrock gets for a tool name. Names that already fit are sent as they are, so the
 * model sees the user's tool names; any other name (`functions.lookup` from another provider's
 * history, a name over 64 characters) becomes its allowed characters, cut to fit, plus a hash of
 * the whole name, so the model still reads what the tool was and two names never meet. Names
 * that merely look rewritten are rewritten too, for the same reason.
 */
export function toBedrockToolName(name: string): string {
  if (BEDROCK_TOOL_NAME.test(name) && !REWRITTEN_NAME.test(name)) return name;
  const readable = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, TOOL_NAME_MAX - HASH_LENGTH - 2);
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  return `${readable}__${hash}`;
}

/**
 * The translation for one request: remembers which tool names were rewritten, so a tool the
 * model calls by its Bedrock name is stored under the user's name; every other name is kept as
 * the model sent it.
 */
export class ToolNames {
  private readonly originals = new Map<string, string>();

  toBedrock(name: string): string {
    const bedrockName = toBedrockToolName(name);
    if (bedrockName !== name) this.originals.set(bedrockName, name);
    return bedrockName;
  }

  fromBedrock(bedrockName: string): string {
    return this.originals.get(bedrockName) ?? bedrockName;
  }
}
