import type { Autocapture } from './autocapture';
import { startAutocapture, switches } from './autocapture';
import { pageContext, staticContext } from './context';
import { Identity } from './identity';
import { MAX_QUEUED, Queue, serialize } from './queue';
import { listen, log, safely, setDebug } from './safe';
import type { Store } from './storage';
import { openStores } from './storage';
import type { Endpoint, Outcome } from './transport';
import { KEEPALIVE_MAX_BYTES, fitBytes, sendBatch, sendBeacon } from './transport';
import type { Capture, CaptureExtra, InitOptions, Properties, WireEvent } from './types';
import { uuidv7 } from './uuid';

/** Most events in one request: big enough to catch up after being offline, far under the server's limits. */
export const MAX_BATCH = 500;
/** Full-jitter backoff: the n-th consecutive failure waits a random time up to min(cap, base * 2^(n-1)). */
export const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
/** A server's Retry-After is honoured up to this; beyond it a broken header would silence the SDK. */
const RETRY_AFTER_CAP_MS = 3600_000;

/** `feedback()`'s argument: a rating and/or a comment, plus any properties. */
export interface Feedback extends Properties {
  rating?: number;
  comment?: string;
}

interface Config {
  apiKey: string;
  bufferSize: number;
  flushInterval: number;
  gzip: boolean;
}

function doNotTrack(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  return nav.doNotTrack === '1' || nav.globalPrivacyControl === true;
}

function positive(n: unknown, fallback: number): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * One PX client: identity, the queue of events, delivery and autocapture.
 * Every public method is safe to call at any time: before `init` it does
 * nothing, and it never throws into the page.
 */
export class Client {
  private cfg?: Config;
  private identity!: Identity;
  private queue!: Queue;
  private consent!: Store;
  private endpoint!: Endpoint;
  private context!: ReturnType<typeof staticContext>;
  private autocapture?: Autocapture;
  private optedOut = false;
  /** Events in a request not answered yet; they are not sent again meanwhile. */
  private inFlight = new Set<WireEvent>();
  /**
   * Events handed to a beacon, which never answers: not sent again when the
   * page is hidden (`visibilitychange` follows `pagehide`), but still by
   * regular flushes if the page comes back from the back/forward cache.
   */
  private beaconed = new WeakSet<WireEvent>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  private flushAt = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;
  /** No request before this time (epoch ms): the server or the network asked for a pause. */
  private backoffUntil = 0;
  private failures = 0;
  /** Shrinks when the server answers 413, so the next batches fit. */
  private batchLimit = MAX_BATCH;
  private draining?: Promise<void>;

  init(options: InitOptions): void {
    safely('init', () => this.start(options));
  }

  track(event: string, properties?: Properties): void {
    this.run('track', () => this.enqueue(event, properties));
  }

  /** A `page_view` by hand, for pages autocapture cannot see change. */
  page(properties?: Properties): void {
    this.run('page', () => this.enqueue('page_view', properties));
  }

  /**
   * Names the person. The first identify of an anonymous browser sends its
   * anonymous id along, and the server merges that id's past and future
   * events into the person; `traits` become person properties.
   */
  identify(userId: string | number, traits?: Properties): void {
    this.run('identify', () => {
      const id = String(userId ?? '').trim();
      if (!id) return log('identify needs a user id');
      const anonymous = this.identity.userId === undefined;
      if (!anonymous && id === this.identity.userId && !traits) return;
      const previous = this.identity.distinctId;
      this.identity.identify(id);
      const props = anonymous && previous !== id ? { $anon_distinct_id: previous } : {};
      this.enqueue('$identify', props, { $set: traits });
    });
  }

  /**
   * Puts the person in a group (a company, a team): every later event
   * carries `$groups`, and a `group` event records the group's traits.
   */
  group(groupType: string, groupKey: string | number, traits?: Properties): void {
    this.run('group', () => {
      const key = String(groupKey);
      const groups = { ...(this.identity.superProperties.$groups as Properties | undefined), [groupType]: key };
      this.identity.register({ $groups: groups });
      this.enqueue('group', { ...traits, group_type: groupType, group_id: key });
    });
  }

  /** Makes `alias` another id of the current person (e.g. a backend id). */
  alias(alias: string | number): void {
    this.run('alias', () => this.enqueue('$create_alias', { alias: String(alias) }));
  }

  /** Forgets the person (logout): new anonymous id, new session, no super properties. */
  reset(): void {
    this.run('reset', () => this.identity.reset(Date.now()));
  }

  /** Super properties: sent with every later event, kept across reloads. */
  register(props: Properties): void {
    this.run('register', () => this.identity.register(props));
  }

  unregister(key: string): void {
    this.run('unregister', () => this.identity.unregister(key));
  }

  /** Consent given: events are captured and sent, also after reloads. */
  optIn(): void {
    this.run('optIn', () => {
      this.consent.set(this.key('consent'), 'in');
      this.optedOut = false;
      this.identity.resume();
    });
  }

  /** Consent refused: nothing is captured or sent, queued events and stored ids are erased. */
  optOut(): void {
    this.run('optOut', () => {
      this.consent.set(this.key('consent'), 'out');
      this.optedOut = true;
      this.queue.clear();
      this.identity.forget();
    });
  }

  hasOptedOut(): boolean {
    return this.run('hasOptedOut', () => this.optedOut) ?? false;
  }

  /** Sends what is queued now; resolves when done or paused by a retry delay. Never rejects. */
  flush(): Promise<void> {
    return this.run('flush', () => this.drain()) ?? Promise.resolve();
  }

  /** A `feedback` event: `{ rating, comment, ...properties }`. */
  feedback(feedback: Feedback): void {
    this.run('feedback', () => this.enqueue('feedback', { ...feedback }));
  }

  getDistinctId(): string | undefined {
    return this.run('getDistinctId', () => this.identity.distinctId);
  }

  getSessionId(): string | undefined {
    return this.run('getSessionId', () => this.identity.sessionId);
  }

  /** `fn` if init succeeded, through {@link safely}. */
  private run<T>(what: string, fn: () => T): T | undefined {
    return safely(what, () => {
      if (this.cfg) return fn();
      log(what + ' called before init: ignored');
      return undefined;
    });
  }

  private key(name: string): string {
    return `px_${name}_${this.cfg!.apiKey}`;
  }

  private start(o: InitOptions): void {
    if (this.cfg) return log('init called again: ignored');
    if (!o || typeof o.apiKey !== 'string' || !o.apiKey || typeof o.host !== 'string' || !o.host) {
      console.warn('[px] init needs { apiKey, host }: nothing will be sent');
      return;
    }
    setDebug(!!o.debug);
    this.cfg = {
      apiKey: o.apiKey,
      bufferSize: Math.min(MAX_QUEUED, Math.round(positive(o.bufferSize, 100))),
      flushInterval: positive(o.flushInterval, 5000),
      gzip: o.compression !== 'none',
    };
    const host = o.host.replace(/\/+$/, '');
    this.endpoint = { url: host + '/api/v1/events/batch', apiKey: o.apiKey };
    const stores = openStores(o.persistence ?? 'localStorage');
    this.consent = stores.consent;
    const consent = this.consent.get(this.key('consent'));
    this.optedOut = consent === 'out' || (consent !== 'in' && !!o.respectDoNotTrack && doNotTrack());
    this.identity = new Identity(stores.state, this.key('state'), Date.now(), !this.optedOut);
    this.queue = new Queue(stores.queue, this.key('queue'));
    if (this.optedOut) this.queue.clear();
    else this.queue.restore();
    this.context = staticContext();

    listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.onHidden(false);
    });
    listen(window, 'pagehide', () => this.onHidden(true));
    listen(window, 'online', () => {
      this.backoffUntil = 0;
      this.failures = 0;
      void this.flush();
    });

    const capture: Capture = (event, properties, extra) => this.enqueue(event, properties, extra);
    this.autocapture = startAutocapture(capture, switches(o.autocapture), host);
    if (this.queue.length) this.schedule(Date.now(), 0);
    log('ready', { distinctId: this.identity.distinctId, optedOut: this.optedOut });
  }

  /**
   * Builds the event and queues it: no serialization, compression or I/O
   * here, so `track` costs microseconds; all of that happens on flush.
   */
  private enqueue(event: string, properties?: Properties, extra?: CaptureExtra): void {
    if (this.optedOut) return;
    if (typeof event !== 'string' || !event) return log('an event needs a name');
    const now = Date.now();
    const ev: WireEvent = {
      event,
      distinct_id: this.identity.distinctId,
      event_id: uuidv7(now),
      session_id: this.identity.session(now),
      timestamp: new Date(now).toISOString(),
      properties: { ...this.identity.superProperties, ...(typeof properties === 'object' ? properties : null) },
      context: { page: extra?.page ?? pageContext(), ...this.context },
    };
    if (extra?.$set) ev.$set = extra.$set;
    this.queue.push(ev);
    const cfg = this.cfg!;
    this.schedule(now, this.queue.length >= cfg.bufferSize ? 0 : cfg.flushInterval);
  }

  /** Flushes after `delay` ms, unless a flush is already due by then. */
  private schedule(now: number, delay: number): void {
    const at = now + delay;
    if (this.flushTimer !== undefined) {
      if (this.flushAt <= at) return;
      clearTimeout(this.flushTimer);
    }
    this.flushAt = at;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delay);
  }

  /** One sending loop at a time; a flush during it shares it (the loop takes events queued meanwhile). */
  private drain(): Promise<void> {
    if (!this.draining) {
      this.draining = this.sendWaiting().finally(() => {
        this.draining = undefined;
      });
    }
    return this.draining;
  }

  private async sendWaiting(): Promise<void> {
    while (!this.optedOut && Date.now() >= this.backoffUntil) {
      const batch = this.queue.head(this.batchLimit, (ev) => this.inFlight.has(ev));
      if (!batch.length) return;
      if (navigator.onLine === false) return this.retryLater();
      this.reportDrops(batch[0]);
      const { json, bad } = serialize(batch);
      if (bad.length) {
        this.queue.discard(bad);
        continue;
      }
      if (!this.settle(batch, await this.send(batch, json, false))) return;
    }
  }

  /** Events dropped to keep the queue bounded are counted on the next event sent, so the loss shows. */
  private reportDrops(ev: WireEvent): void {
    if (!this.queue.dropped) return;
    ev.properties.$dropped_events = ((ev.properties.$dropped_events as number) || 0) + this.queue.dropped;
    this.queue.dropped = 0;
  }

  private async send(batch: WireEvent[], json: string, keepalive: boolean): Promise<Outcome> {
    for (const ev of batch) this.inFlight.add(ev);
    try {
      return await sendBatch(this.endpoint, json, { gzip: this.cfg!.gzip, keepalive });
    } finally {
      for (const ev of batch) this.inFlight.delete(ev);
    }
  }

  /** Applies a batch's outcome to the queue; false when sending must pause. */
  private settle(batch: WireEvent[], outcome: Outcome): boolean {
    switch (outcome.kind) {
      case 'sent':
        this.failures = 0;
        this.queue.remove(batch);
        return true;
      case 'refused':
        log('dropping a batch the server refused:', outcome.status);
        this.queue.remove(batch);
        return true;
      case 'too_large':
        if (batch.length > 1) this.batchLimit = Math.ceil(batch.length / 2);
        else this.queue.remove(batch);
        return true;
      case 'retry':
        this.retryLater(outcome.afterMs);
        return false;
    }
  }

  /**
   * Keeps the events (also in storage, in case the page goes away first)
   * and tries again after the server's Retry-After, or after a full-jitter
   * exponential backoff: random delays keep many browsers from retrying
   * together after an outage.
   */
  private retryLater(afterMs?: number): void {
    this.queue.persist();
    this.failures++;
    // Whole milliseconds: setTimeout truncates fractions, and firing before
    // backoffUntil would find the pause still on and never retry.
    const delay = Math.ceil(
      afterMs !== undefined
        ? Math.min(afterMs, RETRY_AFTER_CAP_MS)
        : Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1)),
    );
    this.backoffUntil = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.flush(), delay);
    log(`delivery failed ${this.failures} time(s); retrying in ${Math.round(delay)} ms`);
  }

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
  private onHidden(pagehide: boolean): void {
    if (pagehide) this.autocapture?.pagehide();
    else this.autocapture?.hidden();
    if (this.optedOut) return;
    this.identity.save();
    if (!this.queue.length) return;
    this.queue.persist();
    if (Date.now() < this.backoffUntil) return;
    const waiting = this.queue.head(MAX_QUEUED, (ev) => this.inFlight.has(ev) || this.beaconed.has(ev));
    const { batch, json } = fitBytes(waiting, KEEPALIVE_MAX_BYTES);
    if (!batch.length) return;
    if (pagehide && sendBeacon(this.endpoint, json)) {
      for (const ev of batch) this.beaconed.add(ev);
      return;
    }
    void this.send(batch, json, true).then(
      (outcome) => safely('keepalive outcome', () => {
        if (this.settle(batch, outcome) && this.queue.length) this.schedule(Date.now(), 0);
      }),
    );
  }
}
