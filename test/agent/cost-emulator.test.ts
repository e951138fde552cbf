import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type AgentEvent,
  createAgent,
  failover,
  memoryStore,
  type RuntimeCost,
  tool,
} from '../../src/index.js';
import { emulatorForFile, MODELS } from '../integration/helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

const prices = {
  [MODELS.azureChat]: { inputPerMTok: 2.5, outputPerMTok: 10 },
  [MODELS.frontier]: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  [MODELS.bedrockConverse]: { inputPerMTok: 0.07, outputPerMTok: 0.3 },
};

function expectedUsd(price: { inputPerMTok: number; outputPerMTok: number }, cost: RuntimeCost): number {
  return (cost.inputTokens * price.inputPerMTok + cost.outputTokens * price.outputPerMTok) / 1_000_000;
}

describe('cost over failover([azureChat, frontier, bedrockConverse]) on the emulator', () => {
  it('charges a failed-over turn to both runtimes it used, and the session to every runtime', async () => {
    // Azure goes down while the tool runs: the turn's first step is Azure's, its second frontier's.
    const weather = tool({
      name: 'get_weather',
      description: 'Current weather for a city',
      input: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        emu.faults.set({ route: 'chat', status: 503 });
        return { city, tempC: 21, sky: 'clear' };
      },
    });
    const store = memoryStore();
    const steps: AgentEvent[] = [];
    const agent = createAgent({
      runtime: failover([clouds.azureChat, clouds.frontier, clouds.bedrockConverse]),
      store,
      tools: [weather],
      prices,
      retry: { maxRetries: 0 },
      onEvent: (event) => event.type === 'step-finish' && steps.push(event),
    });

    const moved = await agent.run('Use get_weather for Paris.', { session: 'priced' });
    expect(moved.runtimeId).toBe(clouds.frontier.id);
    const charged = moved.cost!;
    expect(Object.keys(charged.byRuntime).sort()).toEqual([clouds.azureChat.id, clouds.frontier.id].sort());
    const azure = charged.byRuntime[clouds.azureChat.id]!;
    const front = charged.byRuntime[clouds.frontier.id]!;
    expect(azure.inputTokens).toBeGreaterThan(0);
    expect(front.inputTokens).toBeGreaterThan(0);
    expect(azure.usd).toBeCloseTo(expectedUsd(prices[MODELS.azureChat], azure), 12);
    expect(front.usd).toBeCloseTo(expectedUsd(prices[MODELS.frontier], front), 12);
    expect(charged.usd).toBeCloseTo(azure.usd + front.usd, 12);
    expect(azure.inputTokens + front.inputTokens).toBe(moved.usage.inputTokens);
    expect(azure.outputTokens + front.outputTokens).toBe(moved.usage.outputTokens);
    expect(
      moved.items.filter((item) => 'usage' in item && item.usage).map((item) => (item as any).runtimeId),
    ).toEqual([clouds.azureChat.id, clouds.frontier.id]);

    // Both OpenAI-style clouds down: Bedrock answers alone.
    emu.faults.set([
      { route: 'chat', status: 503 },
      { route: 'responses', status: 503 },
    ]);
    const onBedrock = await agent.run('What is the weather like?', { session: 'priced' });
    expect(onBedrock.runtimeId).toBe(clouds.bedrockConverse.id);
    expect(Object.keys(onBedrock.cost!.byRuntime)).toEqual([clouds.bedrockConverse.id]);
    expect(onBedrock.cost!.byRuntime[clouds.bedrockConverse.id]!.inputTokens).toBe(
      onBedrock.usage.inputTokens,
    );

    const session = await agent.session('priced').cost();
    expect(session.usd).toBeCloseTo(charged.usd + onBedrock.cost!.usd, 12);
    expect(Object.keys(session.byRuntime).sort()).toEqual(
      [clouds.azureChat.id, clouds.frontier.id, clouds.bedrockConverse.id].sort(),
    );
    expect(steps).toHaveLength(3);
  });
});
