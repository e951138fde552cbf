import { describe, expect, it } from 'vitest';
import type { ToolSpec } from '../../../src/runtime/runtime.js';
import { bedrockToolNames } from '../../../src/runtimes/bedrock-converse/tool-names.js';
import { toolCall } from './helpers.js';

/** ToolName in the Bedrock Runtime Smithy model (specs/…botocore-extract.json, smithyOverlays). */
const BEDROCK_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function offered(name: string): ToolSpec {
  return { name, description: `The ${name} tool.`, parameters: { type: 'object' } };
}

/** The name each tool is sent as, in a request that offers them all. */
async function sentAs(...names: string[]): Promise<string[]> {
  const bedrockNames = await bedrockToolNames({ items: [], tools: names.map(offered) });
  return names.map((name) => bedrockNames.toWire(name));
}

describe('tool name translation', () => {
  it('keeps names Bedrock accepts exactly as they are, so the model sees the user’s tool names', async () => {
    const kept = ['get_weather', 'top_song', 'search-files', 'a', 'x'.repeat(64)];
    expect(await sentAs(...kept)).toEqual(kept);
  });

  it('rewrites names from other providers and names over 64 characters into readable names Bedrock accepts', async () => {
    const names = ['functions.lookup', 'mcp:github/search', 'wetter für', '天気', 'x'.repeat(65), ''];
    const first = await sentAs(...names);
    for (const [index, rewritten] of first.entries()) {
      expect(rewritten).not.toBe(names[index]);
      expect(rewritten).toMatch(BEDROCK_TOOL_NAME);
    }
    expect(await sentAs(...names)).toEqual(first);
    expect(first[0]).toMatch(/^functions_lookup__[0-9a-f]{16}$/);
  });

  it('sends the same names as earlier releases, so the model reads the tools of a stored session alike', async () => {
    expect(await sentAs('functions.lookup', 'mcp:github/search', '天気', '', 'x'.repeat(65))).toEqual([
      'functions_lookup__2a242213d8a41a2c',
      'mcp_github_search__cde501b4788f9408',
      '____bc79d84d3df7763a',
      '__e3b0c44298fc1c14',
      `${'x'.repeat(46)}__9537c5fdf120482f`,
    ]);
  });

  it('rewrites the names of tools the transcript called, not only those offered now', async () => {
    const names = await bedrockToolNames({ items: [toolCall('call_1', 'functions.lookup', {})], tools: [] });
    const [offeredAs] = await sentAs('functions.lookup');
    expect(names.toWire('functions.lookup')).toBe(offeredAs);
  });

  it('never gives two different names the same Bedrock name, even a crafted look-alike of a rewritten one', async () => {
    const [rewritten] = await sentAs('functions.lookup');
    const names = [
      'functions.lookup',
      'functions_lookup',
      'functions:lookup',
      rewritten!,
      'x'.repeat(65),
      'x'.repeat(66),
    ];
    const sent = await sentAs(...names);
    expect(new Set(sent).size).toBe(names.length);
    expect(sent[3]).not.toBe(rewritten);
  });

  it('maps back only the names it rewrote; any other name the model uses stays as it is', async () => {
    const names = await bedrockToolNames({
      items: [],
      tools: [offered('get_weather'), offered('functions.lookup')],
    });
    const [neverSent] = await sentAs('never.sent');
    expect(names.fromWire(names.toWire('get_weather'))).toBe('get_weather');
    expect(names.fromWire(names.toWire('functions.lookup'))).toBe('functions.lookup');
    expect(names.fromWire(neverSent!)).toBe(neverSent);
    expect(names.fromWire('made_up_by_the_model')).toBe('made_up_by_the_model');
  });
});
