const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_CODES = Array.from(CROCKFORD, (char) => char.charCodeAt(0));
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

// Random bytes are drawn in blocks: one getRandomValues call per 256 ids instead of one per id.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

let lastTime = -1;
/** The id being built, as character codes: 10 for the time, 16 for the random part. */
const codes = new Array<number>(TIME_CHARS + RANDOM_CHARS).fill(0);
const random = new Uint8Array(RANDOM_CHARS);

function encodeTime(time: number): void {
  let t = time;
  for (let i = TIME_CHARS - 1; i >= 0; i--) {
    codes[i] = CROCKFORD_CODES[t % 32]!;
    t = Math.floor(t / 32);
  }
}

function refillRandom(): void {
  if (poolOffset + RANDOM_CHARS > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < RANDOM_CHARS; i++) {
    const digit = pool[poolOffset + i]! & 31;
    random[i] = digit;
    codes[TIME_CHARS + i] = CROCKFORD_CODES[digit]!;
  }
  poolOffset += RANDOM_CHARS;
}

/** Increments the 80-bit random part so ids made in the same millisecond still sort in order. */
function incrementRandom(): void {
  for (let i = random.length - 1; i >= 0; i--) {
    if (random[i]! < 31) {
      random[i]!++;
      codes[TIME_CHARS + i] = CROCKFORD_CODES[random[i]!]!;
      return;
    }
    random[i] = 0;
    codes[TIME_CHARS + i] = CROCKFORD_CODES[0]!;
  }
  refillRandom();
}

/** A ULID: 26 characters, lexicographically sortable by creation time, monotonic in-process. */
export function newId(): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    encodeTime(now);
    refillRandom();
  } else {
    incrementRandom();
  }
  // One flat string in one call: ids are made on every turn's hot path.
  return String.fromCharCode.apply(null, codes);
}

let isoTime = -1;
let lastIso = '';
let isoSecond = Number.NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of the current second: Date formatting runs once a second, not per item. */
let isoSecondPrefix = '';

/** The current time as an ISO string, as `new Date().toISOString()` gives it. */
export function nowIso(): string {
  const now = Date.now();
  if (now === isoTime) return lastIso;
  const ms = now % 1000;
  const second = now - ms;
  if (second !== isoSecond) {
    isoSecond = second;
    isoSecondPrefix = new Date(second).toISOString().slice(0, -4);
  }
  isoTime = now;
  lastIso = `${isoSecondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  return lastIso;
}
