import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts the canned-answer model server (server.mjs) in its own process. */
export async function startServer(): Promise<{ url: string; process: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

export interface Stats {
  min: number;
  median: number;
  max: number;
  /** The samples, in ms, in the order they were taken. */
  samples: number[];
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
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, samples };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A 95% bootstrap interval for median(b) / median(a) from one run's samples: how far the ratio could
 * move on resampling alone. Drift of a shared machine between runs comes on top of it.
 */
export function ratioInterval(a: number[], b: number[], resamples = 300): [number, number] {
  const resample = (values: number[]) => values.map(() => values[Math.floor(Math.random() * values.length)]!);
  const ratios = Array.from({ length: resamples }, () => median(resample(b)) / median(resample(a)));
  ratios.sort((x, y) => x - y);
  return [ratios[Math.floor(resamples * 0.025)]!, ratios[Math.floor(resamples * 0.975)]!];
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
