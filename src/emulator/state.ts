/** A Responses/Conversations item as it is sent on the wire, with its id. */
export type WireItem = { id: string; type: string } & Record<string, unknown>;

export interface StoredResponse {
  id: string;
  createdAt: number;
  previousResponseId?: string;
  input: WireItem[];
  output: WireItem[];
  /** The response object as the API returns it. */
  response: Record<string, unknown>;
}

export interface StoredConversation {
  id: string;
  createdAt: number;
  metadata: Record<string, unknown>;
  items: WireItem[];
}

/**
 * What the stateful routes keep: stored responses (for previous_response_id chains and GET) and
 * conversations. With `expireAfterMs`, anything older than that is gone, as if the vendor had
 * expired it.
 */
export class ServerState {
  readonly #responses = new Map<string, StoredResponse>();
  readonly #conversations = new Map<string, StoredConversation>();
  readonly #expireAfterMs: number | undefined;

  constructor(expireAfterMs: number | undefined) {
    this.#expireAfterMs = expireAfterMs;
  }

  #expired(createdAt: number): boolean {
    return this.#expireAfterMs !== undefined && Date.now() - createdAt >= this.#expireAfterMs;
  }

  /** Drops expired state so a long-running emulator does not grow without bound. */
  #sweep(): void {
    if (this.#expireAfterMs === undefined) return;
    for (const [id, stored] of this.#responses)
      if (this.#expired(stored.createdAt)) this.#responses.delete(id);
    for (const [id, stored] of this.#conversations)
      if (this.#expired(stored.createdAt)) this.#conversations.delete(id);
  }

  putResponse(stored: StoredResponse): void {
    this.#sweep();
    this.#responses.set(stored.id, stored);
  }

  /** The entry if it has not expired; an expired one is dropped on the way. */
  #live<T extends { createdAt: number }>(entries: Map<string, T>, id: string): T | undefined {
    const stored = entries.get(id);
    if (stored && this.#expired(stored.createdAt)) {
      entries.delete(id);
      return undefined;
    }
    return stored;
  }

  getResponse(id: string): StoredResponse | undefined {
    return this.#live(this.#responses, id);
  }

  deleteResponse(id: string): boolean {
    return this.getResponse(id) !== undefined && this.#responses.delete(id);
  }

  /**
   * Every item of a previous_response_id chain, oldest first: each response's input, then its
   * output. A link that is gone (deleted, expired) ends the walk, so lost context shows.
   */
  chainItems(id: string): WireItem[] | undefined {
    const head = this.getResponse(id);
    if (head === undefined) return undefined;
    const chain: StoredResponse[] = [];
    const seen = new Set<string>();
    let current: StoredResponse | undefined = head;
    while (current !== undefined && !seen.has(current.id)) {
      seen.add(current.id);
      chain.push(current);
      current =
        current.previousResponseId === undefined ? undefined : this.getResponse(current.previousResponseId);
    }
    return chain.reverse().flatMap((stored) => [...stored.input, ...stored.output]);
  }

  putConversation(conversation: StoredConversation): void {
    this.#sweep();
    this.#conversations.set(conversation.id, conversation);
  }

  getConversation(id: string): StoredConversation | undefined {
    return this.#live(this.#conversations, id);
  }

  deleteConversation(id: string): boolean {
    return this.getConversation(id) !== undefined && this.#conversations.delete(id);
  }

  /** Forgets every stored response and conversation (the `dropStored` fault). */
  dropAll(): void {
    this.#responses.clear();
    this.#conversations.clear();
  }
}
