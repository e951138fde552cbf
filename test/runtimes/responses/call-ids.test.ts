import { describe, expect, it } from 'vitest';
import type { RewrittenIds } from '../../../src/runtime/rewrite-ids.js';
import { responsesCallIds } from '../../../src/runtimes/responses/call-ids.js';
import { toolCall, toolResult } from './responses-test-kit.js';

const FITS_RESPONSES = /^.{1,64}$/;

async function idsFor(...callIds: string[]): Promise<RewrittenIds> {
  return responsesCallIds(
    callIds.flatMap((callId) => [toolCall(callId, 'get_weather', {}), toolResult(callId, {})]),
  );
}

describe('Responses call_id translation', () => {
  it('keeps every id of up to 64 characters exactly, so a Responses server sees its own call_id again', async () => {
    const kept = [
      'call_unLAR8MvFNptuiZK6K6HCy5k',
      'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      'functions.get_weather:0',
      'x'.repeat(64),
    ];
    const ids = await idsFor(...kept);
    for (const callId of kept) expect(ids.toWire(callId)).toBe(callId);
  });

  it('rewrites longer ids deterministically into ids the API accepts, and maps them back', async () => {
    const long = `toolu_bdrk_${'01QPMcZk8xW3vJpLr9T2aE6u'.repeat(3)}`;
    const [first, second] = [await idsFor(long), await idsFor(long)];
    const wireId = first.toWire(long);
    expect(wireId).not.toBe(long);
    expect(wireId).toMatch(FITS_RESPONSES);
    expect(second.toWire(long)).toBe(wireId);
    expect(first.fromWire(wireId)).toBe(long);
  });

  it('sends the same call_ids as earlier releases, so sessions stored by them still match their calls', async () => {
    const long = `toolu_bdrk_${'01QPMcZk8xW3vJpLr9T2aE6u'.repeat(3)}`;
    const unicode = 'ünïcode'.repeat(10);
    const ids = await idsFor(long, unicode);
    expect([ids.toWire(long), ids.toWire(unicode)]).toEqual([
      'cloudhop_CsxcMWmfi9980GZnx3tSf1PF7vQVrN8sgM_AAdQtwEw',
      'cloudhop_5kMaw5CCIzPC-h99Wx5pgstrYOeHObsVuHXA83Kj1nk',
    ]);
  });

  it('never maps two different callIds to one wire id, even a crafted look-alike of a rewritten id', async () => {
    const long = 'x'.repeat(65);
    const rewritten = (await idsFor(long)).toWire(long);
    const callIds = [long, 'x'.repeat(66), rewritten, 'call_abc'];
    const ids = await idsFor(...callIds);
    const sent = callIds.map((callId) => ids.toWire(callId));
    expect(new Set(sent).size).toBe(callIds.length);
    expect(sent[2]).not.toBe(rewritten);
    for (const wireId of sent) expect(wireId).toMatch(FITS_RESPONSES);
  });

  it('leaves every call_id it did not rewrite as the server sent it', async () => {
    const ids = await idsFor('x'.repeat(80));
    expect(ids.fromWire('call_YunNGbIwdVJ2i0y0Mybva4Pw')).toBe('call_YunNGbIwdVJ2i0y0Mybva4Pw');
  });
});
