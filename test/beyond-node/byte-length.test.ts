import { describe, expect, it } from 'vitest';
import { byteLength } from '../../src/core/usage.js';

/**
 * `requestBytes` counts request bodies without Node's Buffer, so core runs on web-standard
 * runtimes; the count must stay what `Buffer.byteLength(body, 'utf8')` gave, which is also what
 * TextEncoder (and so fetch) puts on the wire: lone surrogates go out as U+FFFD, 3 bytes.
 */
const wire = new TextEncoder();

function expectSameCount(text: string): void {
  expect(byteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
  expect(byteLength(text), JSON.stringify(text)).toBe(wire.encode(text).byteLength);
}

describe('byteLength (the UTF-8 size of a request body)', () => {
  it.each([
    ['empty', ''],
    ['ASCII JSON', '{"messages":[{"role":"user","content":"Hello"}]}'],
    ['2-byte', 'héllo wörld ©'],
    ['3-byte', '晴れ €'],
    ['4-byte (surrogate pairs)', '🌤😀𝄞'],
    ['mixed after a long ASCII run', `${'a'.repeat(1000)}°C 晴れ 🌤 done`],
    ['boundaries of each length', '\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}'],
    ['a lone high surrogate at the end', 'abc\ud83c'],
    ['a lone high surrogate before ASCII', '\ud83cabc'],
    ['a lone low surrogate', 'abc\udf24def'],
    ['a low then a high surrogate (no pair)', '\udf24\ud83c'],
    ['two high surrogates then a low one', '\ud83c\ud83c\udf24'],
  ])('counts %s text as Buffer.byteLength and TextEncoder do', (_name, text) => {
    expectSameCount(text);
  });

  it('counts any mix of UTF-16 code units as Buffer.byteLength and TextEncoder do', () => {
    // Deterministic: a fixed-seed generator over the interesting code unit ranges.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const ranges: Array<[number, number]> = [
      [0x00, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xd800, 0xdbff],
      [0xdc00, 0xdfff],
      [0xe000, 0xffff],
    ];
    for (let sample = 0; sample < 2_000; sample++) {
      const units = Array.from({ length: 1 + Math.floor(next() * 12) }, () => {
        const [low, high] = ranges[Math.floor(next() * ranges.length)]!;
        return low + Math.floor(next() * (high - low + 1));
      });
      expectSameCount(String.fromCharCode(...units));
    }
  });
});
