import * as z from 'zod/v4';

export const EMULATOR_ROUTES = ['chat', 'responses', 'conversations', 'converse', 'converse-stream'] as const;

/** The route families the emulator counts and injects faults into. */
export type EmulatorRoute = (typeof EMULATOR_ROUTES)[number];

export const faultSchema = z
  .strictObject({
    route: z.enum([...EMULATOR_ROUTES, '*']),
    status: z.int().min(400).max(599).optional(),
    retryAfterMs: z.int().min(0).optional(),
    latencyMs: z.int().min(0).optional(),
    cutAfterChunks: z.int().min(0).optional(),
    dropStored: z.boolean().optional(),
    count: z.int().min(1).optional(),
    rate: z.number().min(0).max(1).optional(),
  })
  .refine((fault) => fault.count === undefined || fault.rate === undefined, {
    message: 'give count or rate, not both',
  })
  .refine(
    (fault) =>
      fault.status !== undefined ||
      fault.latencyMs !== undefined ||
      fault.cutAfterChunks !== undefined ||
      fault.dropStored === true,
    { message: 'a fault needs at least one of status, latencyMs, cutAfterChunks or dropStored' },
  );

/**
 * A fault injected into matching requests. Without `count` or `rate` it applies to every
 * matching request until cleared; `count: n` applies to the next n; `rate: r` applies to a
 * share r of them, spread evenly (rate 0.25 = every 4th matching request), so runs repeat.
 */
export type EmulatorFault = z.infer<typeof faultSchema>;

/** Reads one fault or a list of them, naming the first bad field ("fault.status", "faults[1].route"). */
export function parseFaults(
  value: unknown,
): { ok: true; faults: EmulatorFault[] } | { ok: false; message: string } {
  const list = Array.isArray(value);
  const result = list ? z.array(faultSchema).safeParse(value) : faultSchema.safeParse(value);
  if (!result.success) return { ok: false, message: describeIssues(result.error, list ? 'faults' : 'fault') };
  return { ok: true, faults: Array.isArray(result.data) ? result.data : [result.data] };
}

/** What the faults that fire on one request add up to. */
export interface FaultEffect {
  status?: number;
  retryAfterMs?: number;
  latencyMs: number;
  cutAfterChunks?: number;
  dropStored: boolean;
}

interface ActiveFault {
  fault: EmulatorFault;
  remaining: number;
  /** Accumulates `rate` per matching request; the fault fires each time it reaches 1. */
  credit: number;
}

export class FaultController {
  #active: ActiveFault[] = [];

  /** Replaces the current faults. Faults must already be validated. */
  replace(faults: EmulatorFault[]): void {
    this.#active = faults.map((fault) => ({
      fault: { ...fault },
      remaining: fault.count ?? Number.POSITIVE_INFINITY,
      credit: 0,
    }));
  }

  clear(): void {
    this.#active = [];
  }

  list(): EmulatorFault[] {
    return this.#active.map((active) => ({ ...active.fault }));
  }

  /** Decides which faults fire for one request on `route`, and consumes their counts. */
  take(route: EmulatorRoute): FaultEffect {
    const effect: FaultEffect = { latencyMs: 0, dropStored: false };
    for (const active of this.#active) {
      const { fault } = active;
      if (fault.route !== '*' && fault.route !== route) continue;
      if (fault.rate !== undefined) {
        active.credit += fault.rate;
        if (active.credit < 1 - 1e-9) continue;
        active.credit -= 1;
      } else {
        if (active.remaining <= 0) continue;
        active.remaining -= 1;
      }
      effect.latencyMs += fault.latencyMs ?? 0;
      if (fault.dropStored) effect.dropStored = true;
      if (fault.cutAfterChunks !== undefined) {
        effect.cutAfterChunks = Math.min(effect.cutAfterChunks ?? fault.cutAfterChunks, fault.cutAfterChunks);
      }
      if (fault.status !== undefined && effect.status === undefined) {
        effect.status = fault.status;
        effect.retryAfterMs = fault.retryAfterMs ?? (fault.status === 429 ? 1000 : undefined);
      }
    }
    this.#active = this.#active.filter((active) => active.remaining > 0);
    return effect;
  }
}

/** "faults[0].status: Too small: expected number to be >=400" from a zod error. */
export function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (out, key) =>
          typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key),
        prefix,
      );
      return `${path || 'options'}: ${issue.message}`;
    })
    .join('; ');
}
