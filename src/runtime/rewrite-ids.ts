import type { Item } from '../core/items.js';

/**
 * How one wire field takes identifiers (tool call ids, tool names): which values it accepts as
 * they are, and what every other value becomes instead.
 */
export interface IdRewriteRule {
  /** Whether the field accepts a value as it is. */
  accepts(value: string): boolean;
  /**
   * Matches everything `rewrite` returns. A value of this shape is rewritten even when the field
   * accepts it, so no value is ever sent as if it were another one's rewrite.
   */
  rewrittenShape: RegExp;
  /**
   * What the field gets for a value it refuses, from the value and its SHA-256: deterministic, so
   * a call and its result sent in different requests still match.
   */
  rewrite(value: string, sha256: Uint8Array): string;
}

function base64url(bytes: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...bytes));
  return base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Web Crypto rather than node:crypto: cloudhop/openai and cloudhop/azure run on web-standard runtimes.
async function sha256(value: string): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)));
}

/**
 * The identifiers of one request as one wire field takes them. Values the field accepts are sent
 * as they are, so a server sees its own ids again; every other value is rewritten by the rule.
 * Only values this request rewrote are mapped back: any other value a server sends is its own and
 * stays as it is.
 */
export class RewrittenIds {
  private constructor(
    private readonly wireValues: ReadonlyMap<string, string>,
    private readonly originals: ReadonlyMap<string, string>,
  ) {}

  /** Prepares the rewrites of `values` up front, because hashing with Web Crypto is asynchronous. */
  static async for(values: Iterable<string>, rule: IdRewriteRule): Promise<RewrittenIds> {
    const refused = [...new Set(values)].filter(
      (value) => !rule.accepts(value) || rule.rewrittenShape.test(value),
    );
    const rewrites = await Promise.all(
      refused.map(async (value) => [value, rule.rewrite(value, await sha256(value))] as const),
    );
    return new RewrittenIds(
      new Map(rewrites),
      new Map(rewrites.map(([value, wireValue]) => [wireValue, value])),
    );
  }

  toWire(value: string): string {
    return this.wireValues.get(value) ?? value;
  }

  fromWire(wireValue: string): string {
    return this.originals.get(wireValue) ?? wireValue;
  }
}

/**
 * The callIds of the tool calls and results in `items`, for a wire field that `accepts` some ids:
 * every other id becomes `cloudhop_<base64url sha256>`, 52 characters of `[a-zA-Z0-9_-]`, which
 * every tool call id field takes.
 */
export function rewriteCallIds(
  items: readonly Item[],
  accepts: (callId: string) => boolean,
): Promise<RewrittenIds> {
  const callIds: string[] = [];
  for (const item of items) {
    if (item.type === 'tool_call' || item.type === 'tool_result') callIds.push(item.callId);
  }
  return RewrittenIds.for(callIds, {
    accepts,
    rewrittenShape: /^cloudhop_[A-Za-z0-9_-]{43}$/,
    rewrite: (_callId, sha256) => `cloudhop_${base64url(sha256)}`,
  });
}
