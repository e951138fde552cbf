import { describe, expect, it } from 'vitest';
import { type AgentEvent, CloudhopError, createAgent, failover } from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';

const down = () => ({ error: new CloudhopError('provider_unavailable', 'HTTP 503') });
const quickRetry = { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 1 };

describe('failover groups nested in failover groups', () => {
  it('runs every member of a three-level nest in order, each with its own retries, and names members in failover events', async () => {
    const calls: string[] = [];
    const failing = (id: string) =>
      scriptedRuntime(
        () => {
          calls.push(id);
          return down();
        },
        { id },
      );
    const last = scriptedRuntime(
      () => {
        calls.push('last');
        return 'from last';
      },
      { id: 'last' },
    );
    const agent = createAgent({
      runtime: failover([
        failover([failover([failing('first'), failing('second')]), failing('third')]),
        last,
      ]),
      retry: quickRetry,
    });

    const stream = agent.stream('hello', { session: 's' });
    const events: AgentEvent[] = [];
    for await (const event of stream) events.push(event);
    const result = await stream.result;

    expect(result.runtimeId).toBe('last');
    expect(calls).toEqual(['first', 'first', 'second', 'second', 'third', 'third', 'last']);
    expect(
      events.flatMap((event) =>
        event.type === 'failover'
          ? [`${event.from} -> ${event.to}`]
          : event.type === 'retry'
            ? ['retry']
            : [],
      ),
    ).toEqual(['retry', 'first -> second', 'retry', 'second -> third', 'retry', 'third -> last']);
  });

  it("gives each member of a nested group the agent's per-request timeout", async () => {
    const hanging = scriptedRuntime(() => ({ text: 'too late', delayMs: 60_000 }), { id: 'hanging' });
    const backup = scriptedRuntime(() => 'from backup', { id: 'backup' });
    const last = scriptedRuntime(() => 'from last', { id: 'last' });
    const agent = createAgent({
      runtime: failover([failover([hanging, backup]), last]),
      timeoutMs: 50,
      retry: quickRetry,
    });

    const events: AgentEvent[] = [];
    const stream = agent.stream('hello', { session: 's' });
    for await (const event of stream) events.push(event);
    const result = await stream.result;

    // The hanging runtime's timeouts are its own: the next member of its group still has a whole
    // timeout to answer in.
    expect(result.runtimeId).toBe('backup');
    expect(result.text).toBe('from backup');
    expect(hanging.requests).toHaveLength(2);
    expect(last.requests).toHaveLength(0);
    expect(events.find((event) => event.type === 'failover')).toMatchObject({
      from: 'hanging',
      to: 'backup',
      error: { code: 'timeout', runtimeId: 'hanging' },
    });
  });

  it('refuses a runtime listed both inside a nested group and beside it', () => {
    const a = scriptedRuntime([], { id: 'a' });
    const b = scriptedRuntime([], { id: 'b' });
    const inner = failover([a, b]);
    for (const call of [() => failover([inner, a]), () => failover([failover([inner]), b])]) {
      expect(call).toThrow(CloudhopError);
      expect(call).toThrow(/list each endpoint once \("\w" appears twice/);
    }
    expect(() => failover([inner, scriptedRuntime([], { id: 'c' })])).not.toThrow();
  });

  it("keeps the inner group's circuit options, and its circuits are the ones it has when used on its own", async () => {
    let clock = 0;
    const primary = scriptedRuntime(() => down(), { id: 'primary' });
    const secondary = scriptedRuntime(() => 'secondary ok', { id: 'secondary' });
    const fallback = scriptedRuntime(() => 'fallback ok', { id: 'fallback' });
    const regional = failover([primary, secondary], {
      failureThreshold: 1,
      cooldownMs: 1000,
      now: () => clock,
    });
    const direct = createAgent({ runtime: regional, retry: { maxRetries: 0 } });
    const nested = createAgent({
      runtime: failover([regional, fallback], { failureThreshold: 5 }),
      retry: { maxRetries: 0 },
    });

    expect((await direct.run('1', { session: 'direct' })).runtimeId).toBe('secondary');
    // One failure opened the primary's circuit (the inner group's threshold), for the outer group too.
    expect((await nested.run('2', { session: 'nested' })).runtimeId).toBe('secondary');
    expect(primary.requests).toHaveLength(1);

    // After the inner group's cooldown one probe turn tries the primary again.
    clock = 1500;
    expect((await nested.run('3', { session: 'nested' })).runtimeId).toBe('secondary');
    expect(primary.requests).toHaveLength(2);
  });
});
