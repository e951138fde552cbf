import { describe, expect, it } from 'vitest';
import { ToolNames, toBedrockToolName } from '../../../src/runtimes/bedrock-converse/tool-names.js';

/** ToolName in the Bedrock Runtime Smithy model (specs/…botocore-extract.json, smithyOverlays). */
const BEDROCK_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

describe('tool name translation', () => {
  it('keeps names Bedrock accepts exactly as they are, so the model sees the user’s tool names', () => {
    for (const name of ['get_weather', 'top_song', 'search-files', 'a', 'x'.repeat(64)]) {
      expect(toBedrockToolName(name)).toBe(name);
    }
  });

  it('rewrites names from other providers and names over 64 characters into readable names Bedrock accepts', () => {
    for (const name of ['functions.lookup', 'mcp:github/search', 'wetter für', '天気', 'x'.repeat(65), '']) {
      const rewritten = toBedrockToolName(name);
      expect(rewritten).not.toBe(name);
      expect(rewritten).toMatch(BEDROCK_TOOL_NAME);
      expect(toBedrockToolName(name)).toBe(rewritten);
    }
    expect(toBedrockToolName('functions.lookup')).toMatch(/^functions_lookup__[0-9a-f]{16}$/);
  });

  it('never gives two different names the same Bedrock name, even a crafted look-alike of a rewritten one', () => {
    const rewritten = toBedrockToolName('functions.lookup');
    const names = [
      'functions.lookup',
      'functions_lookup',
      'functions:lookup',
      rewritten,
      'x'.repeat(65),
      'x'.repeat(66),
    ];
    const sent = names.map(toBedrockToolName);
    expect(new Set(sent).size).toBe(names.length);
    expect(sent[3]).not.toBe(rewritten);
  });

  it('maps back only the names it rewrote; any other name the model uses stays as it is', () => {
    const names = new ToolNames();
    const kept = names.toBedrock('get_weather');
    const rewritten = names.toBedrock('functions.lookup');
    expect(names.fromBedrock(kept)).toBe('get_weather');
    expect(names.fromBedrock(rewritten)).toBe('functions.lookup');
    expect(names.fromBedrock(toBedrockToolName('never.sent'))).toBe(toBedrockToolName('never.sent'));
    expect(names.fromBedrock('made_up_by_the_model')).toBe('made_up_by_the_model');
  });
});
