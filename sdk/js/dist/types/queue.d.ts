import type { Store } from './storage';
import type { WireEvent } from './types';
/** Most events held waiting for delivery; past it the oldest are dropped. */
export declare const MAX_QUEUED = 1000;
/**
 * JSON array of `events`, leaving out any event that cannot be serialized
 * (a cycle or a BigInt in its properties), so that one bad event does not
 * block every event queued after it. Those left out are returned in `bad`.
 */
export declare function serialize(events: WireEvent[]): {
    json: string;
    bad: WireEvent[];
};
/**
 * Events waiting for delivery, in memory and, when a store is given,
 * mirrored to it so they survive a reload or a closed tab. Adding is O(1) and
 * touches no storage: writes happen only when delivery fails or the page is
 * hidden, so `track` stays cheap.
 */
export declare class Queue {
    private readonly store;
    private readonly key;
    private readonly max;
    private events;
    /** Events dropped to keep the bound since the last report to the server. */
    dropped: number;
    /** Whether the store may hold events of ours that acks must clean up. */
    private stored;
    constructor(store: Store | null, key: string, max?: number);
    get length(): number;
    push(ev: WireEvent): void;
    /** The oldest `n` events, leaving out those `skip` says are already on their way. */
    head(n: number, skip: (ev: WireEvent) => boolean): WireEvent[];
    /**
     * Takes over the events that earlier page loads (or other tabs) stored and
     * did not see delivered. Some may have reached the server after all; the
     * server drops those repeats by `event_id`.
     */
    restore(): void;
    /** Forgets delivered (or undeliverable) events, here and in the store. */
    remove(done: WireEvent[]): void;
    /**
     * Writes the waiting events to the store, merged with what other tabs of
     * the same site stored there, oldest dropped past the bound.
     */
    persist(): void;
    /** Drops events that cannot be serialized, so they stop blocking the queue. */
    discard(bad: WireEvent[]): void;
    clear(): void;
    private bound;
    private read;
    private write;
}
