import type { WireEvent } from './types';
import { log } from './safe';

/** What became of one batch, and so what the queue does with it. */
export type Outcome =
  /** Stored, or answered for event by event: done with the batch. */
  | { kind: 'sent' }
  /** Worth sending again later (network error, 5xx, 429), after `afterMs` if the server said. */
  | { kind: 'retry'; afterMs?: number }
  /** 413: the batch must be split, or its single event dropped. */
  | { kind: 'too_large' }
  /** Any other 4xx: sending the same bytes again cannot succeed. */
  | { kind: 'refused'; status: number };

export interface Endpoint {
  url: string;
  apiKey: string;
}

/**
 * Browsers refuse `keepalive` requests and beacons once those in flight
 * exceed 64 KiB, so bodies sent while the page goes away stay under this.
 */
export const KEEPALIVE_MAX_BYTES = 60_000;

/**
 * The longest prefix of `events` whose JSON fits in `maxBytes`, and that
 * JSON. Events that cannot be serialized are skipped here; the regular
 * flush discards them.
 */
export function fitBytes(events: WireEvent[], maxBytes: number): { batch: WireEvent[]; json: string } {
  const encoder = new TextEncoder();
  const batch: WireEvent[] = [];
  const parts: string[] = [];
  let size = 80; // the envelope: {"events":[...],"sent_at":"..."}
  for (const ev of events) {
    let json: string;
    try {
      json = JSON.stringify(ev);
    } catch {
      continue;
    }
    size += encoder.encode(json).length + 1;
    if (size > maxBytes) break;
    batch.push(ev);
    parts.push(json);
  }
  return { batch, json: '[' + parts.join(',') + ']' };
}

export function canGzip(): boolean {
  return typeof CompressionStream === 'function';
}

/** Compresses off the main thread: CompressionStream runs natively. */
async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The batch endpoint's body for `eventsJson`, a JSON array of events. */
function envelope(eventsJson: string): string {
  return `{"events":${eventsJson},"sent_at":"${new Date().toISOString()}"}`;
}

/**
 * Hands one batch to the browser with `navigator.sendBeacon`, which
 * delivers it after the page is gone, and as a simple request (a
 * `text/plain` string) needs no CORS preflight. A beacon cannot set
 * headers, so the key goes in the URL, where PX accepts ingestion keys.
 * No answer ever comes back. False when the browser did not take it (no
 * beacon support, or its quota is used up).
 */
export function sendBeacon(to: Endpoint, eventsJson: string): boolean {
  if (typeof navigator.sendBeacon !== 'function') return false;
  try {
    return navigator.sendBeacon(`${to.url}?key=${encodeURIComponent(to.apiKey)}`, envelope(eventsJson));
  } catch (e) {
    log('sendBeacon failed:', e);
    return false;
  }
}

/**
 * POSTs one batch (`eventsJson` is its JSON array) to the batch endpoint.
 * `keepalive` lets the request outlive the page; such requests are sent
 * uncompressed, because compressing is asynchronous and the page may be gone
 * before it finishes.
 */
export async function sendBatch(
  to: Endpoint,
  eventsJson: string,
  opts: { gzip: boolean; keepalive: boolean },
): Promise<Outcome> {
  const text = envelope(eventsJson);
  const headers: Record<string, string> = {
    Authorization: `Bearer ${to.apiKey}`,
    'Content-Type': 'application/json',
  };
  let body: BodyInit = text;
  if (opts.gzip && !opts.keepalive && canGzip()) {
    try {
      body = await gzip(text);
      headers['Content-Encoding'] = 'gzip';
    } catch (e) {
      log('gzip failed, sending uncompressed:', e);
    }
  }
  let res: Response;
  try {
    res = await fetch(to.url, { method: 'POST', headers, body, keepalive: opts.keepalive, credentials: 'omit' });
  } catch (e) {
    log('network error:', e);
    return { kind: 'retry' };
  }
  if (res.ok) {
    const answer = await res.json().catch(() => null);
    if (answer?.rejected?.length) log('the server rejected events:', answer.rejected);
    return { kind: 'sent' };
  }
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    return { kind: 'retry', afterMs: retryAfterMs(res.headers.get('Retry-After')) };
  }
  if (res.status === 413) return { kind: 'too_large' };
  log(`the server refused a batch with ${res.status}:`, await res.text().catch(() => ''));
  return { kind: 'refused', status: res.status };
}
