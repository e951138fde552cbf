import { describe, expect, it } from 'vitest';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  failover,
  memoryStore,
  type SessionStore,
} from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';

const down = () => ({ error: new CloudhopError('provider_unavailable', 'HTTP 503') });

describe('failover', () => {
  it('moves a failing turn to the next runtime with the same transcript and a failover event', async () => {
    const primary = scriptedRuntime(
      ['first answer', down, down, down, down].map((s) => (typeof s === 'function' ? s() : s)),
      { id: 'primary' },
    );
    const backup = scriptedRuntime(['from backup'], { id: 'backup' });
    const store = memoryStore();
    const agent = createAgent({
      runtime: failover([primary, backup]),
      store,
      retry: { maxRetries: 2, initialDelayMs: 1 },
    });
    await agent.run('my name is Ada', { session: 's' });
    const stream = agent.stream('what is my name?', { session: 's' });
    const events: AgentEvent[] = [];
    for await (const event of stream) events.push(event);
    const result = await stream.result;
    expect(result.text).toBe('from backup');
    expect(result.runtimeId).toBe('backup');
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(events.find((e) => e.type === 'failover')).toMatchObject({
      from: 'primary',
      to: 'backup',
      error: { code: 'provider_unavailable' },
    });
    // The backup received the whole local transcript, including the first turn.
    expect(backup.requests[0]!.items).toHaveLength(3);
    expect(await agent.session('s').items()).toHaveLength(4);
  });

  it('does not fail over on errors another cloud cannot cure', async () => {
    for (const code of ['auth_failed', 'content_filtered', 'invalid_config'] as const) {
      const primary = scriptedRuntime([{ error: new CloudhopError(code, 'no') }], { id: 'primary' });
      const backup = scriptedRuntime(['never'], { id: 'backup' });
      const agent = createAgent({ runtime: failover([primary, backup]) });
      await expect(agent.run('x', { session: 's' })).rejects.toMatchObject({ code });
      expect(backup.requests).toHaveLength(0);
    }
  });

  it('opens the circuit after failureThreshold failures, probes after the cooldown, and returns to the primary', async () => {
    let clock = 0;
    let primaryHealthy = false;
    const primary = scriptedRuntime(() => (primaryHealthy ? 'primary ok' : down()), { id: 'primary' });
    const backup = scriptedRuntime(() => 'backup ok', { id: 'backup' });
    const agent = createAgent({
      runtime: failover([primary, backup], { failureThreshold: 2, cooldownMs: 1000, now: () => clock }),
      retry: { maxRetries: 0 },
    });
    expect((await agent.run('1', { session: 's' })).runtimeId).toBe('backup');
    expect((await agent.run('2', { session: 's' })).runtimeId).toBe('backup');
    expect(primary.requests).toHaveLength(2);
    // Circuit open: the primary is skipped without a request.
    expect((await agent.run('3', { session: 's' })).runtimeId).toBe('backup');
    expect(primary.requests).toHaveLength(2);
    clock = 1500;
    primaryHealthy = true;
    const probe = await agent.run('4', { session: 's' });
    expect(probe.runtimeId).toBe('primary');
    // The returning primary gets everything that happened while it was away.
    expect(primary.requests.at(-1)!.items).toHaveLength(7);
  });

  it('lets exactly one turn probe a runtime whose cooldown has passed', async () => {
    let clock = 0;
    let primaryHealthy = false;
    const primary = scriptedRuntime(() => (primaryHealthy ? { text: 'primary ok', delayMs: 50 } : down()), {
      id: 'primary',
    });
    const backup = scriptedRuntime(() => 'backup ok', { id: 'backup' });
    const agent = createAgent({
      runtime: failover([primary, backup], { failureThreshold: 1, cooldownMs: 100, now: () => clock }),
      retry: { maxRetries: 0 },
    });
    expect((await agent.run('x', { session: 'a' })).runtimeId).toBe('backup');
    clock = 500;
    primaryHealthy = true;
    const [one, two] = await Promise.all([
      agent.run('y', { session: 'b' }),
      agent.run('z', { session: 'c' }),
    ]);
    expect([one.runtimeId, two.runtimeId].sort()).toEqual(['backup', 'primary']);
    expect(primary.requests).toHaveLength(2);
    // The probe succeeded: the circuit is closed again and every turn goes to the primary.
    const after = await Promise.all([agent.run('p', { session: 'd' }), agent.run('q', { session: 'e' })]);
    expect(after.map((r) => r.runtimeId)).toEqual(['primary', 'primary']);
  });

  it('probes a runtime again after the store failed while its probe step was being prepared', async () => {
    let clock = 0;
    let primaryHealthy = false;
    const primary = scriptedRuntime(() => (primaryHealthy ? 'primary ok' : down()), { id: 'primary' });
    const backup = scriptedRuntime(() => 'backup ok', { id: 'backup' });
    const inner = memoryStore();
    let historyReadsFail = false;
    // The head of the session reads fine; the history the step needs (read while the request is
    // prepared for the chosen runtime) does not, as when the store drops a connection mid-turn.
    const store: SessionStore = {
      ...inner,
      load: (key, options) =>
        historyReadsFail && options?.limit !== 0
          ? Promise.reject(new Error('read ECONNRESET'))
          : inner.load(key, options),
    };
    const agent = createAgent({
      runtime: failover([primary, backup], { failureThreshold: 1, cooldownMs: 100, now: () => clock }),
      store,
      retry: { maxRetries: 0 },
    });
    expect((await agent.run('1', { session: 's' })).runtimeId).toBe('backup');
    clock = 500;
    primaryHealthy = true;
    historyReadsFail = true;
    await expect(agent.run('2', { session: 's' })).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(primary.requests).toHaveLength(1);
    historyReadsFail = false;
    // The failed turn never reached the primary: the next turn takes the probe and closes its circuit.
    expect((await agent.run('3', { session: 's' })).runtimeId).toBe('primary');
    expect((await agent.run('4', { session: 's' })).runtimeId).toBe('primary');
  });

  it('fails with the last error when every runtime fails', async () => {
    const agent = createAgent({
      runtime: failover([
        scriptedRuntime(() => down(), { id: 'a' }),
        scriptedRuntime(() => down(), { id: 'b' }),
      ]),
      retry: { maxRetries: 0 },
    });
    await expect(agent.run('x', { session: 's' })).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('validates its options', () => {
    expect(() => failover([])).toThrow(/at least one runtime/);
    const a = scriptedRuntime([], { id: 'a' });
    expect(() => failover([a, a])).toThrow(/same id/);
    expect(() => failover([a], { cooldownMs: -1 })).toThrow(/cooldownMs/);
  });
});
