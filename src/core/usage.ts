export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
  /** Bytes of request body sent: what separates a stateless from a stateful runtime. */
  requestBytes: number;
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

/** UTF-8 length of a request body, counted in place without copying it. */
export function byteLength(body: string): number {
  return Buffer.byteLength(body, 'utf8');
}
