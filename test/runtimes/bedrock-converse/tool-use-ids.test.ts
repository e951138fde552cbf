import { describe, expect, it } from 'vitest';
import { bedrockToolUseIds } from '../../../src/runtimes/bedrock-converse/tool-use-ids.js';
import { toolCall, toolResult } from './helpers.js';

const BEDROCK_SAFE = /^[a-zA-Z0-9_-]{1,64}$/;

/** The toolUseId each callId is sent as, in a request whose transcript holds their calls and results. */
async function sentAs(...callIds: string[]): Promise<string[]> {
  const ids = await bedrockToolUseIds(
    callIds.flatMap((callId) => [toolCall(callId, 'get_weather', {}), toolResult(callId, '{"tempC":21}')]),
  );
  return callIds.map((callId) => ids.toWire(callId));
}

describe('toolUseId translation', () => {
  it("keeps ids Bedrock accepts exactly as they are, so Bedrock's own ids are echoed unchanged", async () => {
    const kept = [
      'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      'toolu_01PQjhxo3eirCdKNvCJrKc8f',
      'call_abc123',
      'a',
      'x'.repeat(64),
    ];
    expect(await sentAs(...kept)).toEqual(kept);
  });

  it('rewrites ids with other characters or over 64 characters into ids Bedrock accepts, deterministically', async () => {
    const callIds = ['functions.get_weather:0', 'call with space', 'ünïcode', 'x'.repeat(65), 'a/b'];
    const first = await sentAs(...callIds);
    for (const [index, rewritten] of first.entries()) {
      expect(rewritten).not.toBe(callIds[index]);
      expect(rewritten).toMatch(BEDROCK_SAFE);
    }
    expect(await sentAs(...callIds)).toEqual(first);
  });

  it('sends the same toolUseIds as earlier releases, so sessions stored by them still match their calls', async () => {
    expect(await sentAs('functions.get_weather:0', 'ünïcode', 'x'.repeat(65))).toEqual([
      'cloudhop_eawaqrIWsijHqyJBGyPM-jnLQgeIAeMsb-Syvsnbsjo',
      'cloudhop_uL6JZ-TePrKUg1sXSBhFIxeXZyUMLVEEUenToD3wiXc',
      'cloudhop_lTfF_fEgSC99WNJentWD9SwCtOME6oFNsWM61WWu1-k',
    ]);
  });

  it('never maps two different callIds to the same Bedrock id, even a crafted look-alike of a rewritten id', async () => {
    const [rewritten] = await sentAs('functions.get_weather:0');
    const callIds = [
      'functions.get_weather:0',
      rewritten!,
      'functions.get_weather_0',
      'x'.repeat(65),
      'x'.repeat(66),
    ];
    const sent = await sentAs(...callIds);
    expect(new Set(sent).size).toBe(callIds.length);
    expect(sent[1]).not.toBe(rewritten);
  });

  it('maps back only the ids it rewrote; any other Bedrock id stays opaque', async () => {
    const ids = await bedrockToolUseIds([
      toolCall('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'get_weather', { city: 'Paris' }),
      toolResult('functions.get_weather:0', '{"tempC":21}'),
    ]);
    const [neverSent] = await sentAs('never.sent:1');
    expect(ids.fromWire(ids.toWire('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q'))).toBe('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q');
    expect(ids.fromWire(ids.toWire('functions.get_weather:0'))).toBe('functions.get_weather:0');
    expect(ids.fromWire(neverSent!)).toBe(neverSent);
    expect(ids.fromWire('tooluse_new')).toBe('tooluse_new');
  });
});
