import type { WireEvent } from './types';
/** What became of one batch, and so what the queue does with it. */
export type Outcome = 
/** Stored, or answered for event by event: done with the batch. */
{
    kind: 'sent';
}
/** Worth sending again later (network error, 5xx, 429), after `afterMs` if the server said. */
 | {
    kind: 'retry';
    afterMs?: number;
}
/** 413: the batch must be split, or its single event dropped. */
 | {
    kind: 'too_large';
}
/** Any other 4xx: sending the same bytes again cannot succeed. */
 | {
    kind: 'refused';
    status: number;
};
export interface Endpoint {
    url: string;
    apiKey: string;
}
/**
 * Browsers refuse `keepalive` requests and beacons once those in flight
 * exceed 64 KiB, so bodies sent while the page goes away stay under this.
 */
export declare const KEEPALIVE_MAX_BYTES = 60000;
/**
 * The longest prefix of `events` whose JSON fits in `maxBytes`, and that
 * JSON. Events that cannot be serialized are skipped here; the regular
 * flush discards them.
 */
export declare function fitBytes(events: WireEvent[], maxBytes: number): {
    batch: WireEvent[];
    json: string;
};
export declare function canGzip(): boolean;
/** `Retry-After` as milliseconds: delay-seconds or an HTTP date. */
export declare function retryAfterMs(header: string | null, now?: number): number | undefined;
/**
 * Hands one batch to the browser with `navigator.sendBeacon`, which
 * delivers it after the page is gone, and as a simple request (a
 * `text/plain` string) needs no CORS preflight. A beacon cannot set
 * headers, so the key goes in the URL, where PX accepts ingestion keys.
 * No answer ever comes back. False when the browser did not take it (no
 * beacon support, or its quota is used up).
 */
export declare function sendBeacon(to: Endpoint, eventsJson: string): boolean;
/**
 * POSTs one batch (`eventsJson` is its JSON array) to the batch endpoint.
 * `keepalive` lets the request outlive the page; such requests are sent
 * uncompressed, because compressing is asynchronous and the page may be gone
 * before it finishes.
 */
export declare function sendBatch(to: Endpoint, eventsJson: string, opts: {
    gzip: boolean;
    keepalive: boolean;
}): Promise<Outcome>;
