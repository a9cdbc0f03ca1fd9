import type { Store } from './storage';
import type { WireEvent } from './types';
import { log } from './safe';

/** Most events held waiting for delivery; past it the oldest are dropped. */
export const MAX_QUEUED = 1000;

/**
 * JSON array of `events`, leaving out any event that cannot be serialized
 * (a cycle or a BigInt in its properties), so that one bad event does not
 * block every event queued after it. Those left out are returned in `bad`.
 */
export function serialize(events: WireEvent[]): { json: string; bad: WireEvent[] } {
  try {
    return { json: JSON.stringify(events), bad: [] };
  } catch {
    const parts: string[] = [];
    const bad: WireEvent[] = [];
    for (const ev of events) {
      try {
        parts.push(JSON.stringify(ev));
      } catch {
        bad.push(ev);
      }
    }
    return { json: '[' + parts.join(',') + ']', bad };
  }
}

/**
 * Events waiting for delivery, in memory and, when a store is given,
 * mirrored to it so they survive a reload or a closed tab. Adding is O(1) and
 * touches no storage: writes happen only when delivery fails or the page is
 * hidden, so `track` stays cheap.
 */
export class Queue {
  private events: WireEvent[] = [];
  /** Events dropped to keep the bound since the last report to the server. */
  dropped = 0;
  /** Whether the store may hold events of ours that acks must clean up. */
  private stored = false;

  constructor(
    private readonly store: Store | null,
    private readonly key: string,
    private readonly max: number = MAX_QUEUED,
  ) {}

  get length(): number {
    return this.events.length;
  }

  push(ev: WireEvent): void {
    this.events.push(ev);
    this.bound();
  }

  /** The oldest `n` events, leaving out those `skip` says are already on their way. */
  head(n: number, skip: (ev: WireEvent) => boolean): WireEvent[] {
    const out: WireEvent[] = [];
    for (const ev of this.events) {
      if (out.length >= n) break;
      if (!skip(ev)) out.push(ev);
    }
    return out;
  }

  /**
   * Takes over the events that earlier page loads (or other tabs) stored and
   * did not see delivered. Some may have reached the server after all; the
   * server drops those repeats by `event_id`.
   */
  restore(): void {
    const saved = this.read();
    if (!saved.length) return;
    const ids = new Set(this.events.map((e) => e.event_id));
    this.events = saved.filter((e) => !ids.has(e.event_id)).concat(this.events);
    this.stored = true;
    this.bound();
  }

  /** Forgets delivered (or undeliverable) events, here and in the store. */
  remove(done: WireEvent[]): void {
    const ids = new Set(done.map((e) => e.event_id));
    this.events = this.events.filter((e) => !ids.has(e.event_id));
    if (this.stored) {
      const left = this.read().filter((e) => !ids.has(e.event_id));
      this.write(left);
      this.stored = left.length > 0;
    }
  }

  /**
   * Writes the waiting events to the store, merged with what other tabs of
   * the same site stored there, oldest dropped past the bound.
   */
  persist(): void {
    if (!this.store) return;
    const mine = new Set(this.events.map((e) => e.event_id));
    const merged = this.read()
      .filter((e) => !mine.has(e.event_id))
      .concat(this.events)
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    this.write(merged.slice(Math.max(0, merged.length - this.max)));
    this.stored = merged.length > 0;
  }

  /** Drops events that cannot be serialized, so they stop blocking the queue. */
  discard(bad: WireEvent[]): void {
    log(`dropped ${bad.length} event(s) that cannot be sent`);
    this.events = this.events.filter((e) => !bad.includes(e));
  }

  clear(): void {
    this.events = [];
    this.dropped = 0;
    this.store?.remove(this.key);
    this.stored = false;
  }

  private bound(): void {
    const over = this.events.length - this.max;
    if (over > 0) {
      this.events.splice(0, over);
      this.dropped += over;
      log(`queue full: dropped the ${over} oldest event(s)`);
    }
  }

  private read(): WireEvent[] {
    const raw = this.store?.get(this.key);
    if (!raw) return [];
    try {
      const list: unknown = JSON.parse(raw);
      return Array.isArray(list)
        ? list.filter((e): e is WireEvent => !!e && typeof e === 'object' && typeof e.event_id === 'string')
        : [];
    } catch {
      return [];
    }
  }

  private write(events: WireEvent[]): void {
    if (!this.store) return;
    if (!events.length) {
      this.store.remove(this.key);
      return;
    }
    const { json, bad } = serialize(events);
    if (bad.length) this.discard(bad);
    this.store.set(this.key, json);
  }
}
