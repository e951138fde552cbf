import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId, nowIso } from '../../src/core/ids.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('newId', () => {
  it('makes 26-character Crockford ULIDs that sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('encodes the creation time in its first 10 characters', () => {
    // Later than any id made before: ids stay in order even when the clock steps back.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2040, 10, 26, 9, 0, 0, 0));
    const earlier = newId();
    vi.setSystemTime(Date.UTC(2040, 10, 26, 9, 0, 0, 1));
    const later = newId();
    expect(earlier.slice(0, 10) < later.slice(0, 10)).toBe(true);
    const time = [...later.slice(0, 10)].reduce(
      (value, char) => value * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(char),
      0,
    );
    expect(time).toBe(Date.UTC(2040, 10, 26, 9, 0, 0, 1));
  });
});

describe('nowIso', () => {
  it.each([
    Date.UTC(2026, 10, 26, 9, 0, 0, 0),
    Date.UTC(2026, 10, 26, 9, 0, 0, 7),
    Date.UTC(2026, 10, 26, 9, 0, 0, 70),
    Date.UTC(2026, 10, 26, 9, 0, 0, 999),
    Date.UTC(2026, 10, 26, 9, 0, 1, 0),
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1, 0, 0, 0, 5),
  ])('gives what toISOString gives at %i', (time) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(time);
    expect(nowIso()).toBe(new Date(time).toISOString());
  });

  it('follows the clock across milliseconds and seconds', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2026, 10, 26, 9, 0, 0, 998);
    for (let step = 0; step < 5; step++) {
      vi.setSystemTime(start + step);
      expect(nowIso()).toBe(new Date(start + step).toISOString());
    }
  });
});
