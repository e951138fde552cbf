import { CloudhopError, storeUnavailable } from '../core/errors.js';
import type { Item, SummaryItem } from '../core/items.js';
import {
  type Binding,
  type LoadOptions,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
  windowOf,
} from '../core/store.js';
import { CutTracker, estimateTokens } from './context-policy.js';

/** The first page read back from the end; each further page is twice as long. */
const FIRST_PAGE_ITEMS = 32;
const MAX_PAGE_ITEMS = 4_096;

export async function loadWindow(
  store: SessionStore,
  key: SessionKey,
  options: LoadOptions,
  what: string,
): Promise<(SessionSnapshot & { fromVersion: number }) | undefined> {
  let snapshot: SessionSnapshot | undefined;
  try {
    snapshot = await store.load(key, options);
  } catch (error) {
    throw storeUnavailable(error, what);
  }
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

  private constructor(
    private readonly store: SessionStore,
    private readonly key: SessionKey,
    readonly version: number,
    readonly bindings: Record<string, Binding>,
    readonly summary: SummaryItem | undefined,
    head: SessionSnapshot & { fromVersion: number },
  ) {
    this.window = head.items;
    this.windowFrom = head.fromVersion;
  }

  /** Reads the head only; a store that ignores windows returns everything, which is then kept. */
  static async open(store: SessionStore, key: SessionKey): Promise<SessionHistory> {
    let snapshot: SessionSnapshot | undefined;
    try {
      snapshot = await store.load(key, { limit: 0 });
    } catch (error) {
      throw storeUnavailable(error, 'loading the session');
    }
    if (!snapshot) {
      return new SessionHistory(store, key, 0, {}, undefined, {
        items: [],
        version: 0,
        bindings: {},
        fromVersion: 0,
      });
    }
    // Asked for no items, a store that ignored the options sent every item: keep them all rather
    // than read them again.
    const head = windowOf(snapshot, {});
    if (head.items.length === 0 || head.fromVersion + head.items.length !== head.version) {
      head.items = [];
      head.fromVersion = head.version;
    }
    return new SessionHistory(store, key, head.version, head.bindings, head.summary, head);
  }

  /** The item at `position`, which must already be read (see `readFrom`). */
  at(position: number): Item {
    return this.window[position - this.windowFrom]!;
  }

  /** The items at [from, version), read from the store as far as they are not read yet. */
  async since(from: number): Promise<Item[]> {
    await this.readFrom(from);
    return this.window.slice(from - this.windowFrom);
  }

  /** Makes sure the items from `position` on are read: one windowed load of just the missing part. */
  async readFrom(position: number): Promise<void> {
    const from = Math.max(0, position);
    if (from >= this.windowFrom) return;
    const missing = this.windowFrom - from;
    const page = await loadWindow(
      this.store,
      this.key,
      { fromVersion: from, limit: missing },
      'loading the session',
    );
    if (!page || page.version !== this.version || page.items.length !== missing) throw this.changed();
    this.window = page.items.concat(this.window);
    this.windowFrom = from;
  }

  /**
   * Walks back from the newest item to `floor`, reading pages as it goes, and returns the earliest
   * valid start whose history still `fits` (given the items counted and their tokens). Summary
   * items are skipped: the latest one reaches the model separately, older ones are superseded.
   */
  async newestWithin(floor: number, fits: (items: number, tokens: number) => boolean): Promise<HistoryStart> {
    const cuts = new CutTracker();
    let best: HistoryStart = { start: this.version, reachedFloor: this.version <= floor, tokens: 0 };
    let items = 0;
    let tokens = 0;
    for (let position = this.version - 1; position >= floor; position--) {
      if (position < this.windowFrom) await this.readBack(floor);
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
  }

  /** Estimated tokens of the items since `from`, or undefined once they exceed `limit`. */
  async tokensSince(from: number, limit: number): Promise<number | undefined> {
    let tokens = 0;
    for (let position = this.version - 1; position >= from; position--) {
      if (position < this.windowFrom) await this.readBack(from);
      const item = this.at(position);
      if (item.type === 'summary') continue;
      tokens += estimateTokens(item);
      if (tokens > limit) return undefined;
    }
    return tokens;
  }

  /**
   * The items at [from, to) in order. What lies before the read window is read page by page and
   * not kept, so a pass over a long session holds one page at a time.
   */
  async *range(from: number, to: number): AsyncGenerator<Item> {
    let position = from;
    while (position < Math.min(to, this.windowFrom)) {
      const limit = Math.min(MAX_PAGE_ITEMS, this.windowFrom - position, to - position);
      const page = await loadWindow(
        this.store,
        this.key,
        { fromVersion: position, limit },
        'loading the session',
      );
      if (!page || page.items.length !== limit) throw this.changed();
      yield* page.items;
      position += limit;
    }
    for (; position < to; position++) yield this.at(position);
  }

  private changed(): CloudhopError {
    return new CloudhopError(
      'store_conflict',
      `The session "${this.key.sessionId}" changed while the turn was reading it, although the turn holds its lease. Retry the turn.`,
      { retryable: true },
    );
  }

  private async readBack(floor: number): Promise<void> {
    await this.readFrom(Math.max(floor, this.windowFrom - this.pageItems));
    this.pageItems = Math.min(this.pageItems * 2, MAX_PAGE_ITEMS);
  }
}
