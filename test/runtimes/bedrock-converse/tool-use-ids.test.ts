import { describe, expect, it } from 'vitest';
import { ToolUseIds, toBedrockToolUseId } from '../../../src/runtimes/bedrock-converse/tool-use-ids.js';

const BEDROCK_SAFE = /^[a-zA-Z0-9_-]{1,64}$/;

describe('toolUseId translation', () => {
  it("keeps ids Bedrock accepts exactly as they are, so Bedrock's own ids are echoed unchanged", () => {
    for (const id of [
      'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      'toolu_01PQjhxo3eirCdKNvCJrKc8f',
      'call_abc123',
      'a',
      'x'.repeat(64),
    ]) {
      expect(toBedrockToolUseId(id)).toBe(id);
    }
  });

  it('rewrites ids with other characters or over 64 characters into ids Bedrock accepts, deterministically', () => {
    for (const id of ['functions.get_weather:0', 'call with space', 'ünïcode', 'x'.repeat(65), 'a/b']) {
      const rewritten = toBedrockToolUseId(id);
      expect(rewritten).not.toBe(id);
      expect(rewritten).toMatch(BEDROCK_SAFE);
      expect(toBedrockToolUseId(id)).toBe(rewritten);
    }
  });

  it('never maps two different callIds to the same Bedrock id, even a crafted look-alike of a rewritten id', () => {
    const rewritten = toBedrockToolUseId('functions.get_weather:0');
    const ids = [
      'functions.get_weather:0',
      rewritten,
      'functions.get_weather_0',
      'x'.repeat(65),
      'x'.repeat(66),
    ];
    const sent = ids.map(toBedrockToolUseId);
    expect(new Set(sent).size).toBe(ids.length);
    expect(sent[1]).not.toBe(rewritten);
  });

  it('maps back only the ids it rewrote; any other Bedrock id stays opaque', () => {
    const ids = new ToolUseIds();
    const kept = ids.toBedrock('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q');
    const rewritten = ids.toBedrock('functions.get_weather:0');
    expect(ids.fromBedrock(kept)).toBe('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q');
    expect(ids.fromBedrock(rewritten)).toBe('functions.get_weather:0');
    expect(ids.fromBedrock(toBedrockToolUseId('never.sent:1'))).toBe(toBedrockToolUseId('never.sent:1'));
    expect(ids.fromBedrock('tooluse_new')).toBe('tooluse_new');
  });
});
