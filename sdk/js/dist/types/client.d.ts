import type { InitOptions, Properties } from './types';
/** Most events in one request: big enough to catch up after being offline, far under the server's limits. */
export declare const MAX_BATCH = 500;
/** Full-jitter backoff: the n-th consecutive failure waits a random time up to min(cap, base * 2^(n-1)). */
export declare const BACKOFF_BASE_MS = 1000;
/** `feedback()`'s argument: a rating and/or a comment, plus any properties. */
export interface Feedback extends Properties {
    rating?: number;
    comment?: string;
}
/**
 * One PX client: identity, the queue of events, delivery and autocapture.
 * Every public method is safe to call at any time: before `init` it does
 * nothing, and it never throws into the page.
 */
export declare class Client {
    private cfg?;
    private identity;
    private queue;
    private consent;
    private endpoint;
    private context;
    private autocapture?;
    private optedOut;
    /** Events in a request not answered yet; they are not sent again meanwhile. */
    private inFlight;
    /**
     * Events handed to a beacon, which never answers: not sent again when the
     * page is hidden (`visibilitychange` follows `pagehide`), but still by
     * regular flushes if the page comes back from the back/forward cache.
     */
    private beaconed;
    private flushTimer?;
    private flushAt;
    private retryTimer?;
    /** No request before this time (epoch ms): the server or the network asked for a pause. */
    private backoffUntil;
    private failures;
    /** Shrinks when the server answers 413, so the next batches fit. */
    private batchLimit;
    private draining?;
    init(options: InitOptions): void;
    track(event: string, properties?: Properties): void;
    /** A `page_view` by hand, for pages autocapture cannot see change. */
    page(properties?: Properties): void;
    /**
     * Names the person. The first identify of an anonymous browser sends its
     * anonymous id along, and the server merges that id's past and future
     * events into the person; `traits` become person properties.
     */
    identify(userId: string | number, traits?: Properties): void;
    /**
     * Puts the person in a group (a company, a team): every later event
     * carries `$groups`, and a `group` event records the group's traits.
     */
    group(groupType: string, groupKey: string | number, traits?: Properties): void;
    /** Makes `alias` another id of the current person (e.g. a backend id). */
    alias(alias: string | number): void;
    /** Forgets the person (logout): new anonymous id, new session, no super properties. */
    reset(): void;
    /** Super properties: sent with every later event, kept across reloads. */
    register(props: Properties): void;
    unregister(key: string): void;
    /** Consent given: events are captured and sent, also after reloads. */
    optIn(): void;
    /** Consent refused: nothing is captured or sent, queued events and stored ids are erased. */
    optOut(): void;
    hasOptedOut(): boolean;
    /** Sends what is queued now; resolves when done or paused by a retry delay. Never rejects. */
    flush(): Promise<void>;
    /** A `feedback` event: `{ rating, comment, ...properties }`. */
    feedback(feedback: Feedback): void;
    getDistinctId(): string | undefined;
    getSessionId(): string | undefined;
    /** `fn` if init succeeded, through {@link safely}. */
    private run;
    private key;
    private start;
    /**
     * Builds the event and queues it: no serialization, compression or I/O
     * here, so `track` costs microseconds; all of that happens on flush.
     */
    private enqueue;
    /** Flushes after `delay` ms, unless a flush is already due by then. */
    private schedule;
    /** One sending loop at a time; a flush during it shares it (the loop takes events queued meanwhile). */
    private drain;
    private sendWaiting;
    /** Events dropped to keep the queue bounded are counted on the next event sent, so the loss shows. */
    private reportDrops;
    private send;
    /** Applies a batch's outcome to the queue; false when sending must pause. */
    private settle;
    /**
     * Keeps the events (also in storage, in case the page goes away first)
     * and tries again after the server's Retry-After, or after a full-jitter
     * exponential backoff: random delays keep many browsers from retrying
     * together after an outage.
     */
    private retryLater;
    /**
     * The page was hidden and may never come back: store what is queued, and
     * send what fits in one request the browser completes even after the page
     * is gone. On `pagehide` (the page is being left) that is a beacon, where
     * the browser has one: older browsers lack `fetch` keepalive, and a beacon
     * needs no CORS preflight. Otherwise, and when the beacon is refused, a
     * keepalive `fetch`. The events stay stored until a response says they
     * arrived (a beacon never answers); if the page dies first, the next page
     * load sends them again and the server drops the repeats by `event_id`.
     */
    private onHidden;
}
