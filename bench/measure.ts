export interface Stats {
  min: number;
  median: number;
  max: number;
}

export interface Case {
  name: string;
  /** Resolves when the measured work is done; with `returnsMark`, with the performance.now() to stop at. */
  run: () => Promise<unknown>;
}

export function stats(samples: number[]): Stats {
  const sorted = samples.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/**
 * Runs the cases in turn, one iteration of each per round, so that drift on a shared machine hits
 * every case alike. Returns per-case stats in ms.
 */
export async function interleave(
  cases: Case[],
  runs: number,
  warmup: number,
  options: { returnsMark?: boolean } = {},
): Promise<Stats[]> {
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < warmup + runs; round++) {
    for (const [index, current] of cases.entries()) {
      const start = performance.now();
      const mark = await current.run();
      const end = options.returnsMark && typeof mark === 'number' ? mark : performance.now();
      if (round >= warmup) samples[index]!.push(end - start);
    }
  }
  return samples.map(stats);
}
