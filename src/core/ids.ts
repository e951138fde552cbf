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

// Random bytes are drawn in blocks: one getRandomValues call per 256 ids instead of one per id.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function freshRandom(): number[] {
  if (poolOffset + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const random = new Array<number>(16);
  for (let i = 0; i < 16; i++) random[i] = pool[poolOffset + i]! & 31;
  poolOffset += 16;
  return random;
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
