export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
  /** Bytes of request body sent: what separates a stateless from a stateful runtime. */
  requestBytes: number;
}

/** Token counts as a provider reports them, under cloudhop's names; any of them may be missing. */
export interface TokenCounts {
  input?: number | null;
  output?: number | null;
  total?: number | null;
  cached?: number | null;
  reasoning?: number | null;
}

/** A step's usage: missing counts are 0, a missing total is input + output. */
export function usageFrom(counts: TokenCounts, requestBytes: number): Usage {
  const inputTokens = counts.input ?? 0;
  const outputTokens = counts.output ?? 0;
  const usage: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: counts.total ?? inputTokens + outputTokens,
    requestBytes,
  };
  if (typeof counts.cached === 'number') usage.cachedInputTokens = counts.cached;
  if (typeof counts.reasoning === 'number') usage.reasoningTokens = counts.reasoning;
  return usage;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, requestBytes: 0 };
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

export function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    requestBytes: a.requestBytes + b.requestBytes,
  };
  const cached = addOptional(a.cachedInputTokens, b.cachedInputTokens);
  const reasoning = addOptional(a.reasoningTokens, b.reasoningTokens);
  if (cached !== undefined) sum.cachedInputTokens = cached;
  if (reasoning !== undefined) sum.reasoningTokens = reasoning;
  return sum;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * UTF-8 length of a request body, counted in place without copying it (no `Buffer`: core runs on
 * web-standard runtimes too). A lone surrogate counts 3 bytes, as the U+FFFD it is sent as.
 */
export function byteLength(body: string): number {
  const length = body.length;
  const firstNonAscii = body.search(NON_ASCII);
  if (firstNonAscii === -1) return length;
  let bytes = length;
  for (let i = firstNonAscii; i < length; i++) {
    const code = body.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code <= 0xdbff && code >= 0xd800 && (body.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, one 4-byte code point.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
