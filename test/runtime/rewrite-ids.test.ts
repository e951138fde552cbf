import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  createItem,
  type MessageItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../../src/core/items.js';
import { type IdRewriteRule, RewrittenIds, rewriteCallIds } from '../../src/runtime/rewrite-ids.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A field that takes up to 8 lowercase letters; everything else becomes `h` and 7 hex digits of its SHA-256. */
const SHORT_LOWERCASE: IdRewriteRule = {
  accepts: (value) => /^[a-z]{1,8}$/.test(value),
  rewrittenShape: /^h[0-9a-f]{7}$/,
  rewrite: (_value, sha256) => `h${Buffer.from(sha256).toString('hex').slice(0, 7)}`,
};

function nodeSha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

describe('reversible id rewriting', () => {
  it('sends accepted values as they are and rewrites the others from their SHA-256', async () => {
    const ids = await RewrittenIds.for(['weather', 'get.weather', 'wetter für', '天気'], SHORT_LOWERCASE);
    expect(ids.toWire('weather')).toBe('weather');
    for (const refused of ['get.weather', 'wetter für', '天気']) {
      expect(ids.toWire(refused)).toBe(`h${nodeSha256Hex(refused).slice(0, 7)}`);
    }
  });

  it('rewrites a value that merely looks rewritten, so it never meets the value it imitates', async () => {
    const imitated = (await RewrittenIds.for(['get.weather'], SHORT_LOWERCASE)).toWire('get.weather');
    const ids = await RewrittenIds.for(['get.weather', imitated], SHORT_LOWERCASE);
    expect(ids.toWire(imitated)).not.toBe(imitated);
    expect(ids.toWire(imitated)).not.toBe(ids.toWire('get.weather'));
    expect(ids.fromWire(ids.toWire(imitated))).toBe(imitated);
    expect(ids.fromWire(ids.toWire('get.weather'))).toBe('get.weather');
  });

  it('maps back only what it rewrote, however often a value came; other wire values stay as the server sent them', async () => {
    const ids = await RewrittenIds.for(['get.weather', 'get.weather', 'weather'], SHORT_LOWERCASE);
    expect(ids.fromWire(ids.toWire('get.weather'))).toBe('get.weather');
    expect(ids.fromWire('weather')).toBe('weather');
    expect(ids.fromWire(`h${nodeSha256Hex('never.sent').slice(0, 7)}`)).toBe(
      `h${nodeSha256Hex('never.sent').slice(0, 7)}`,
    );
  });

  it('rewrites the callIds of tool calls and tool results alike, so a result still answers its call', async () => {
    const refused = 'functions.get_weather:0';
    const ids = await rewriteCallIds(
      [
        createItem<MessageItem>({
          type: 'message',
          role: 'user',
          content: [{ type: 'text', text: refused }],
        }),
        createItem<ToolCallItem>({
          type: 'tool_call',
          callId: refused,
          name: 'get_weather',
          arguments: '{}',
        }),
        createItem<ToolResultItem>({
          type: 'tool_result',
          callId: 'toolu_01.result',
          output: '{"tempC":21}',
        }),
      ],
      (callId) => !callId.includes('.'),
    );
    const sha256 = createHash('sha256').update(refused, 'utf8').digest('base64url');
    expect(ids.toWire(refused)).toBe(`cloudhop_${sha256}`);
    expect(ids.toWire('toolu_01.result')).toMatch(/^cloudhop_[A-Za-z0-9_-]{43}$/);
  });

  it('bundles for a web-standard runtime, where no node: built-in exists', async () => {
    const bundled = await build({
      entryPoints: ['src/runtime/rewrite-ids.ts'],
      absWorkingDir: root,
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
    });
    expect(bundled.errors).toEqual([]);
  });
});
