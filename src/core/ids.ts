const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Random bytes are drawn in blocks: one getRandomValues call per 256 ids instead of one per id.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

let lastTime = -1;
let timePart = '';
let lastIso = '';
const random = new Uint8Array(16);

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function refillRandom(): void {
  if (poolOffset + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 16; i++) random[i] = pool[poolOffset + i]! & 31;
  poolOffset += 16;
}

/** Increments the 80-bit random part so ids made in the same millisecond still sort in order. */
function incrementRandom(): void {
  for (let i = random.length - 1; i >= 0; i--) {
    if (random[i]! < 31) {
      random[i]!++;
      return;
    }
    random[i] = 0;
  }
  refillRandom();
}

/** A ULID: 26 characters, lexicographically sortable by creation time, monotonic in-process. */
export function newId(): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    timePart = encodeTime(now);
    refillRandom();
  } else {
    incrementRandom();
  }
  let id = timePart;
  for (let i = 0; i < 16; i++) id += CROCKFORD[random[i]!];
  return id;
}

let isoTime = -1;

/** The current time as an ISO string; made once per millisecond, however many items share it. */
export function nowIso(): string {
  const now = Date.now();
  if (now !== isoTime) {
    isoTime = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
