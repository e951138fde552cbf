import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { memoryTracing } from './helpers.js';

// The application registers its provider globally, as the OpenTelemetry Node SDK does.
const tracing = memoryTracing();
trace.setGlobalTracerProvider(tracing.provider);
afterAll(() => trace.disable());

describe('telemetry without a tracer', () => {
  it("uses the global tracer provider's tracer named cloudhop", async () => {
    const agent = createAgent({
      runtime: scriptedRuntime(['Hello!'], { id: 'scripted-global' }),
      telemetry: {},
    });
    await agent.run('Hi', { session: 'global' });
    const spans = tracing.spans();
    expect(spans.map((span) => span.name)).toEqual(['invoke_agent', 'chat']);
    for (const span of spans) expect(span.instrumentationScope.name).toBe('cloudhop');
    expect(spans[0]!.attributes['cloudhop.runtime.id']).toBe('scripted-global');
  });

  it('an agent without telemetry makes no span, even with a global provider', async () => {
    tracing.reset();
    const agent = createAgent({ runtime: scriptedRuntime(['Hello!']) });
    await agent.run('Hi', { session: 'untraced' });
    expect(tracing.spans()).toEqual([]);
  });
});
