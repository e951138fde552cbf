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

/** One runtime of a group, with its circuit and the circuit options of the `failover` call that listed it. */
interface Member {
  runtime: Runtime;
  cooldownMs: number;
  failureThreshold: number;
  now: () => number;
  consecutiveFailures: number;
  openUntil: number;
  /** A half-open probe step is under way on this runtime. */
  probing: boolean;
}

/**
 * The members of every group `failover` made. A group listed in another one is flattened into its
 * members, so the agent runs each of them as itself: a stateful one with its binding, a stateless
 * one with its context view, each with its own retries and timeout. They bring their circuits
 * along, shared with the inner group wherever else it is used, and so keep its options.
 */
const groupMembers = new WeakMap<Runtime, readonly Member[]>();

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
 * open), then tried again by one probe turn (half-open); success closes the circuit. A failover
 * group listed among the runtimes stands for its own runtimes, in their order, with their circuits.
 */
export function failover(runtimes: Runtime[], options: FailoverOptions = {}): Runtime {
  const listed = parseOptions(
    z.array(runtimeSchema).min(1, 'needs at least one runtime'),
    runtimes,
    'failover(runtimes)',
  ) as Runtime[];
  const parsed = parseOptions(optionsSchema, options, 'failover');
  const circuitOptions = {
    cooldownMs: parsed.cooldownMs ?? 30_000,
    failureThreshold: parsed.failureThreshold ?? 3,
    now: parsed.now ?? Date.now,
  };
  const members = listed.flatMap(
    (runtime): readonly Member[] =>
      groupMembers.get(runtime) ?? [
        { runtime, ...circuitOptions, consecutiveFailures: 0, openUntil: 0, probing: false },
      ],
  );
  const seen = new Set<string>();
  for (const { runtime } of members) {
    if (seen.has(runtime.id)) {
      throw new CloudhopError(
        'invalid_config',
        `failover(runtimes): two runtimes have the same id; list each endpoint once ("${runtime.id}" appears twice, nested failover groups included).`,
      );
    }
    seen.add(runtime.id);
  }

  /**
   * Members whose circuit lets them take a step, in preference order; all of them if every circuit
   * is open. A runtime whose cooldown has passed is half-open: the first step to select it claims
   * the one probe (`probes`), and concurrent steps skip it until the probe has its answer.
   */
  function available(probes: Set<Member>): Member[] {
    const usable = members.filter((member) => {
      if (member.openUntil > member.now()) return false;
      if (member.consecutiveFailures < member.failureThreshold) return true;
      if (member.probing) return false;
      member.probing = true;
      probes.add(member);
      return true;
    });
    return usable.length > 0 ? usable : members.slice().sort((a, b) => a.openUntil - b.openUntil);
  }

  function recordSuccess(member: Member): void {
    member.consecutiveFailures = 0;
    member.openUntil = 0;
    member.probing = false;
  }

  function recordFailure(member: Member): void {
    member.probing = false;
    member.consecutiveFailures += 1;
    // A failed half-open probe (failures already at the threshold) reopens at once.
    if (member.consecutiveFailures >= member.failureThreshold) {
      member.openUntil = member.now() + member.cooldownMs;
    }
  }

  async function dispatch(
    prepare: (member: Runtime) => Promise<StepRequest>,
    context: DispatchContext,
  ): Promise<StepResult> {
    const probes = new Set<Member>();
    const candidates = available(probes);
    try {
      for (let index = 0; ; index++) {
        const member = candidates[index]!;
        const { runtime } = member;
        // A store that fails while the request is prepared is no fault of this runtime: its probe,
        // still claimed until then, goes back for a later step to take.
        const request = await prepare(runtime);
        probes.delete(member);
        try {
          const result = await context.runStep(runtime, request);
          recordSuccess(member);
          return result;
        } catch (error) {
          // Text already streamed cannot be taken back; a second answer would be mixed into it.
          if (!failsOver(error) || context.shownText()) {
            member.probing = false;
            throw error;
          }
          recordFailure(member);
          const next = candidates[index + 1];
          if (!next) throw error;
          context.emit({ type: 'failover', from: runtime.id, to: next.runtime.id, error });
        }
      }
    } finally {
      // Probes claimed for runtimes this step never reached go back for the next step to take.
      for (const member of probes) member.probing = false;
    }
  }

  const group: Runtime = {
    id: `failover(${listed.map((runtime) => runtime.id).join(',')})`,
    kind: members.every((m) => m.runtime.kind === 'stateless') ? 'stateless' : 'stateful',
    family: members[0]!.runtime.family,
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
      await Promise.all(listed.map((runtime) => runtime.close?.()));
    },
  };
  groupMembers.set(group, members);
  return group;
}
