import { CloudhopError, storeUnavailable } from '../core/errors.js';
import type { Item, SummaryItem } from '../core/items.js';
import {
  type Binding,
  type LoadOptions,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
  sessionLabel,
  windowOf,
} from '../core/store.js';
import { abortError } from '../runtime/retry.js';
import { CutTracker, estimateTokens } from './context-policy.js';
import { bounded, canAbort } from './turn-signal.js';

/** The first page read back from the end; each further page is twice as long. */
const FIRST_PAGE_ITEMS = 32;
const MAX_PAGE_ITEMS = 4_096;

type Window = SessionSnapshot & { fromVersion: number };

/**
 * A store call the turn waits for until `signal` fires (then the turn's abort error); whatever the
 * store throws, synchronously or not, surfaces as store_unavailable. A result that comes after the
 * turn stopped waiting goes to `onLate`.
 */
export async function storeCall<T>(
  call: () => Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  onLate?: (value: T) => void,
): Promise<T> {
  try {
    return await bounded(call(), signal, onLate);
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    throw storeUnavailable(error, what);
  }
}

const load = (store: SessionStore, key: SessionKey, options: LoadOptions) =>
  storeCall(() => store.load(key, options), options.signal, 'loading the session');

/** The window `options` ask for, or undefined for a session never written. */
export async function loadWindow(
  store: SessionStore,
  key: SessionKey,
  options: LoadOptions,
): Promise<Window | undefined> {
  const snapshot = await load(store, key, options);
  return snapshot && windowOf(snapshot, options);
}

/** Where a walk back through history stopped. */
export interface HistoryStart {
  /** The position the context starts at (a valid cut); `version` when no history fits. */
  start: number;
  /** True when the walk reached the floor within the budget: everything since the floor fits. */
  reachedFloor: boolean;
  /** Estimated tokens of the history from `start` on. */
  tokens: number;
}

/**
 * The part of one session a turn has read: its head (version, bindings, latest summary) and a
 * window of the newest items, read further back page by page only as far as a step needs. A turn
 * holds the session's lease, so the session does not change under it.
 */
export class SessionHistory {
  /** Items at positions [windowFrom, version). */
  private window: Item[];
  private windowFrom: number;
  private pageItems = FIRST_PAGE_ITEMS;

  readonly version: number;
  readonly bindings: Record<string, Binding>;
  readonly summary: SummaryItem | undefined;

  private constructor(
    private readonly store: SessionStore,
    private readonly key: SessionKey,
    /** The turn's signal, when something can abort the turn: every read stops waiting once it fires. */
    private readonly signal: AbortSignal | undefined,
    head: Window,
  ) {
    this.version = head.version;
    this.bindings = head.bindings;
    this.summary = head.summary;
    // Asked for no items, a store that ignored the options sent every item: keep them all rather
    // than read them again.
    const complete = head.items.length > 0 && head.fromVersion + head.items.length === head.version;
    this.window = complete ? head.items : [];
    this.windowFrom = complete ? head.fromVersion : head.version;
  }

  /** Reads the head only; a store that ignores windows returns everything, which is then kept. */
  static async open(store: SessionStore, key: SessionKey, signal: AbortSignal): Promise<SessionHistory> {
    const abortableBy = canAbort(signal) ? signal : undefined;
    const snapshot = await load(store, key, abortableBy ? { limit: 0, signal } : { limit: 0 });
    return new SessionHistory(
      store,
      key,
      abortableBy,
      snapshot ? windowOf(snapshot, {}) : { items: [], version: 0, bindings: {}, fromVersion: 0 },
    );
  }

  /** The item at `position`, which must already be read (see `readFrom`). */
  at(position: number): Item {
    return this.window[position - this.windowFrom]!;
  }

  /**
   * The items at [from, version), read from the store as far as they are not read yet. Synchronous
   * when they are: most steps need nothing new, and this runs on every step.
   */
  since(from: number): Item[] | Promise<Item[]> {
    const slice = () => this.window.slice(from - this.windowFrom);
    return from >= this.windowFrom ? slice() : this.readFrom(from).then(slice);
  }

  /** Makes sure the items from `position` on are read: one windowed load of just the missing part. */
  async readFrom(position: number): Promise<void> {
    const from = Math.max(0, position);
    if (from >= this.windowFrom) return;
    this.window = (await this.page(from, this.windowFrom - from)).concat(this.window);
    this.windowFrom = from;
  }

  /**
   * Walks back from the newest item to `floor`, reading pages as it goes, and returns the earliest
   * valid start whose history still `fits` (given the items counted and their tokens). Summary
   * items are skipped: the latest one reaches the model separately, older ones are superseded.
   * Synchronous while the walk stays within what is read.
   */
  newestWithin(
    floor: number,
    fits: (items: number, tokens: number) => boolean,
  ): HistoryStart | Promise<HistoryStart> {
    const cuts = new CutTracker();
    let best: HistoryStart = { start: this.version, reachedFloor: this.version <= floor, tokens: 0 };
    let items = 0;
    let tokens = 0;
    let position = this.version - 1;
    const walk = (): HistoryStart | Promise<HistoryStart> => {
      for (; position >= floor; position--) {
        if (position < this.windowFrom) return this.readBack(floor).then(walk);
        const item = this.at(position);
        const valid = cuts.feed(item);
        if (item.type !== 'summary') {
          items += 1;
          tokens += estimateTokens(item);
          if (!fits(items, tokens)) return { ...best, reachedFloor: false };
        }
        if (valid) best = { start: position, reachedFloor: position === floor, tokens };
      }
      // Reached the floor within budget, but a dangling result may have kept the start later.
      return { ...best, reachedFloor: true };
    };
    return walk();
  }

  /**
   * The items at [from, to) in order. What lies before the read window is read page by page and
   * not kept, so a pass over a long session holds one page at a time.
   */
  async *range(from: number, to: number): AsyncGenerator<Item> {
    let position = from;
    while (position < Math.min(to, this.windowFrom)) {
      const limit = Math.min(MAX_PAGE_ITEMS, this.windowFrom - position, to - position);
      yield* await this.page(position, limit);
      position += limit;
    }
    for (; position < to; position++) yield this.at(position);
  }

  /** The `limit` items from `fromVersion`, all of them, from the session as the turn opened it. */
  private async page(fromVersion: number, limit: number): Promise<Item[]> {
    const options: LoadOptions = { fromVersion, limit };
    if (this.signal) options.signal = this.signal;
    const page = await loadWindow(this.store, this.key, options);
    if (!page || page.version !== this.version || page.items.length !== limit) {
      throw new CloudhopError(
        'store_conflict',
        `The ${sessionLabel(this.key)} changed while the turn read it, despite its lease. Retry the turn.`,
        { retryable: true },
      );
    }
    return page.items;
  }

  private async readBack(floor: number): Promise<void> {
    await this.readFrom(Math.max(floor, this.windowFrom - this.pageItems));
    this.pageItems = Math.min(this.pageItems * 2, MAX_PAGE_ITEMS);
  }
}
