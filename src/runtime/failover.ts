import * as z from 'zod/v4';
import { CloudhopError, type CloudhopErrorCode } from '../core/errors.js';
import { functionOption, parseOptions } from '../core/options.js';
import {
  type DispatchContext,
  type Runtime,
  runtimeSchema,
  type StepContext,
  type StepRequest,
  type StepResult,
} from './runtime.js';

export interface FailoverOptions {
  /** How long a runtime whose circuit opened is skipped before one probe turn may use it again. Default 30 s. */
  cooldownMs?: number;
  /** Consecutive failed steps (each after its retries) that open a runtime's circuit. Default 3. */
  failureThreshold?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Errors that another cloud cannot cure: they end the turn wherever they happen. */
const NEVER_FAIL_OVER: ReadonlySet<CloudhopErrorCode> = new Set([
  'auth_failed',
  'content_filtered',
  'invalid_config',
  'output_invalid',
  'aborted',
]);

export function failsOver(error: unknown): error is CloudhopError {
  return error instanceof CloudhopError && error.retryable && !NEVER_FAIL_OVER.has(error.code);
}

interface Circuit {
  consecutiveFailures: number;
  openUntil: number;
  /** A half-open probe step is under way on this runtime. */
  probing: boolean;
}

const optionsSchema = z
  .object({
    cooldownMs: z.number().int().min(0).max(86_400_000),
    failureThreshold: z.number().int().min(1).max(1000),
    now: functionOption<() => number>('must be a function returning ms'),
  })
  .partial()
  .strict();

/**
 * A runtime over several runtimes in order of preference. A step that fails on one of them with a
 * retryable error (after that runtime's retries) moves to the next with the same local transcript
 * and a `failover` event. A runtime that keeps failing is skipped for `cooldownMs` (its circuit is
 * open), then tried again by one probe turn (half-open); success closes the circuit.
 */
export function failover(runtimes: Runtime[], options: FailoverOptions = {}): Runtime {
  const members = parseOptions(
    z.array(runtimeSchema).min(1, 'needs at least one runtime'),
    runtimes,
    'failover(runtimes)',
  ) as Runtime[];
  const ids = new Set(members.map((member) => member.id));
  if (ids.size !== members.length) {
    throw new CloudhopError(
      'invalid_config',
      'failover(runtimes): two runtimes have the same id; list each endpoint once.',
    );
  }
  const parsed = parseOptions(optionsSchema, options, 'failover');
  const cooldownMs = parsed.cooldownMs ?? 30_000;
  const failureThreshold = parsed.failureThreshold ?? 3;
  const now = parsed.now ?? Date.now;
  const closed = (): Circuit => ({ consecutiveFailures: 0, openUntil: 0, probing: false });
  const circuits = new Map(members.map((m) => [m.id, closed()]));
  const circuitOf = (id: string) => circuits.get(id)!;

  /**
   * Members whose circuit lets them take a step, in preference order; all of them if every circuit
   * is open. A runtime whose cooldown has passed is half-open: the first step to select it claims
   * the one probe (`probes`), and concurrent steps skip it until the probe has its answer.
   */
  function available(probes: Set<string>): Runtime[] {
    const time = now();
    const usable = members.filter((member) => {
      const circuit = circuitOf(member.id);
      if (circuit.openUntil > time) return false;
      if (circuit.consecutiveFailures < failureThreshold) return true;
      if (circuit.probing) return false;
      circuit.probing = true;
      probes.add(member.id);
      return true;
    });
    return usable.length > 0
      ? usable
      : members.slice().sort((a, b) => circuitOf(a.id).openUntil - circuitOf(b.id).openUntil);
  }

  function recordSuccess(member: Runtime): void {
    circuits.set(member.id, closed());
  }

  function recordFailure(member: Runtime): void {
    const circuit = circuitOf(member.id);
    circuit.probing = false;
    circuit.consecutiveFailures += 1;
    // A failed half-open probe (failures already at the threshold) reopens at once.
    if (circuit.consecutiveFailures >= failureThreshold) circuit.openUntil = now() + cooldownMs;
  }

  async function dispatch(
    prepare: (member: Runtime) => Promise<StepRequest>,
    context: DispatchContext,
  ): Promise<StepResult> {
    const probes = new Set<string>();
    const candidates = available(probes);
    try {
      for (let index = 0; ; index++) {
        const member = candidates[index]!;
        probes.delete(member.id);
        // A store that fails while the request is prepared is no fault of this runtime.
        const request = await prepare(member);
        try {
          const result = await context.runStep(member, request);
          recordSuccess(member);
          return result;
        } catch (error) {
          // Text already streamed cannot be taken back; a second answer would be mixed into it.
          if (!failsOver(error) || context.shownText()) {
            circuitOf(member.id).probing = false;
            throw error;
          }
          recordFailure(member);
          const next = candidates[index + 1];
          if (!next) throw error;
          context.emit({ type: 'failover', from: member.id, to: next.id, error });
        }
      }
    } finally {
      // Probes claimed for runtimes this step never reached go back for the next step to take.
      for (const id of probes) circuitOf(id).probing = false;
    }
  }

  return {
    id: `failover(${members.map((m) => m.id).join(',')})`,
    kind: members.every((m) => m.kind === 'stateless') ? 'stateless' : 'stateful',
    family: members[0]!.family,
    dispatch,
    step(request: StepRequest, context: StepContext) {
      let shownText = false;
      return dispatch(async () => request, {
        emit: context.emit,
        shownText: () => shownText,
        runStep: async (member, memberRequest) => ({
          ...(await member.step(memberRequest, {
            ...context,
            emit: (event) => {
              if (event.type === 'text-delta') shownText = true;
              context.emit(event);
            },
          })),
          runtimeId: member.id,
        }),
      });
    },
    async close() {
      await Promise.all(members.map((member) => member.close?.()));
    },
  };
}
