import { describe, expect, it } from 'vitest';
import { CallIds } from '../../../src/runtimes/responses/call-ids.js';
import { toolCall, toolResult } from './responses-test-kit.js';

const FITS_RESPONSES = /^.{1,64}$/;

async function idsFor(...callIds: string[]): Promise<CallIds> {
  return CallIds.for(
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
    for (const callId of kept) expect(ids.toResponses(callId)).toBe(callId);
  });

  it('rewrites longer ids deterministically into ids the API accepts, and maps them back', async () => {
    const long = `toolu_bdrk_${'01QPMcZk8xW3vJpLr9T2aE6u'.repeat(3)}`;
    const [first, second] = [await idsFor(long), await idsFor(long)];
    const wireId = first.toResponses(long);
    expect(wireId).not.toBe(long);
    expect(wireId).toMatch(FITS_RESPONSES);
    expect(second.toResponses(long)).toBe(wireId);
    expect(first.fromResponses(wireId)).toBe(long);
  });

  it('never maps two different callIds to one wire id, even a crafted look-alike of a rewritten id', async () => {
    const long = 'x'.repeat(65);
    const rewritten = (await idsFor(long)).toResponses(long);
    const callIds = [long, 'x'.repeat(66), rewritten, 'call_abc'];
    const ids = await idsFor(...callIds);
    const sent = callIds.map((callId) => ids.toResponses(callId));
    expect(new Set(sent).size).toBe(callIds.length);
    expect(sent[2]).not.toBe(rewritten);
    for (const wireId of sent) expect(wireId).toMatch(FITS_RESPONSES);
  });

  it('leaves every call_id it did not rewrite as the server sent it', async () => {
    const ids = await idsFor('x'.repeat(80));
    expect(ids.fromResponses('call_YunNGbIwdVJ2i0y0Mybva4Pw')).toBe('call_YunNGbIwdVJ2i0y0Mybva4Pw');
  });
});
