const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function freshRandom(): number[] {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b % 32);
}

/** Increments the 80-bit random part so ids made in the same millisecond still sort in order. */
function incremented(random: number[]): number[] {
  const next = random.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom();
}

/** A ULID: 26 characters, lexicographically sortable by creation time, monotonic in-process. */
export function newId(): string {
  const now = Date.now();
  lastRandom = now === lastTime ? incremented(lastRandom) : freshRandom();
  lastTime = Math.max(now, lastTime);
  return encodeTime(lastTime) + lastRandom.map((n) => CROCKFORD[n]).join('');
}
