import { describe, expect, test, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, BACKOFF_BASE_MS, MAX_BATCH } from '../../src/client';
import { MAX_QUEUED } from '../../src/queue';
import { KEEPALIVE_MAX_BYTES } from '../../src/transport';
import { VERSION } from '../../src/version';
import { API_KEY, HOST, fakeServer, isolatePage, settle, startClient, storedQueue } from './helpers';

isolatePage();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('events on the wire', () => {
  test('carry exactly the fields the ingestion API accepts', async () => {
    const server = fakeServer();
    const px = startClient();
    px.track('checkout_completed', { revenue: 99 });
    await px.flush();

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req.url).toBe(`${HOST}/api/v1/events/batch`);
    expect(req.headers.Authorization).toBe(`Bearer ${API_KEY}`);
    expect(new Date(req.sentAt).toISOString()).toBe(req.sentAt);
    const [ev] = req.events;
    expect(Object.keys(ev).sort()).toEqual(
      ['context', 'distinct_id', 'event', 'event_id', 'properties', 'session_id', 'timestamp'].sort(),
    );
    expect(ev.event).toBe('checkout_completed');
    expect(ev.properties).toEqual({ revenue: 99 });
    expect(ev.event_id).toMatch(UUID);
    expect(ev.distinct_id).toBe(px.getDistinctId());
    expect(ev.session_id).toBe(px.getSessionId());
    expect(new Date(ev.timestamp).toISOString()).toBe(ev.timestamp);
    expect(Object.keys(ev.context).sort()).toEqual(
      ['library', 'locale', 'page', 'screen', 'timezone', 'user_agent'].sort(),
    );
    expect(ev.context.page).toEqual({
      url: location.href,
      referrer: document.referrer,
      title: document.title,
      path: location.pathname,
    });
    expect(ev.context.library).toEqual({ name: 'px-js', version: VERSION });
  });

  test('the library version is the package version', () => {
    const pkg = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });

  test('every event gets its own id', async () => {
    const server = fakeServer();
    const px = startClient();
    for (let i = 0; i < 50; i++) px.track('e');
    await px.flush();
    expect(new Set(server.events().map((e) => e.event_id)).size).toBe(50);
  });

  test('are gzipped with Content-Encoding when compression is on', async () => {
    const server = fakeServer();
    const px = startClient({ compression: 'gzip' });
    px.track('big', { text: 'x'.repeat(5000) });
    await px.flush();
    expect(server.requests[0].gzipped).toBe(true);
    expect(server.requests[0].events[0].properties.text).toHaveLength(5000);
  });
});

describe('batching', () => {
  test('sends once bufferSize events wait, not before', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const px = startClient({ bufferSize: 3, flushInterval: 60_000 });
    px.track('a');
    px.track('b');
    await vi.advanceTimersByTimeAsync(10);
    expect(server.requests).toHaveLength(0);
    px.track('c');
    expect(server.requests).toHaveLength(0); // track only queues
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests.map((r) => r.events.map((e) => e.event))).toEqual([['a', 'b', 'c']]);
  });

  test('sends a partial batch after flushInterval', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const px = startClient({ flushInterval: 2000 });
    px.track('a');
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(1);
  });

  test('a backlog goes out in batches of at most MAX_BATCH', async () => {
    const server = fakeServer();
    const px = startClient({ bufferSize: MAX_QUEUED });
    for (let i = 0; i < MAX_BATCH + 10; i++) px.track('e');
    await px.flush();
    expect(server.requests.map((r) => r.events.length)).toEqual([MAX_BATCH, 10]);
  });
});

describe('retries', () => {
  test('network errors back off exponentially with full jitter, keeping event ids', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999999); // the longest delay jitter allows
    const server = fakeServer((_req, n) => (n <= 3 ? 'network-error' : { status: 200 }));
    const px = startClient();
    px.track('a');
    await px.flush();
    expect(server.requests).toHaveLength(1);
    // Retry n waits up to BASE * 2^(n-1): ~1 s, ~2 s, ~4 s.
    for (const [wait, total] of [
      [BACKOFF_BASE_MS, 2],
      [2 * BACKOFF_BASE_MS, 3],
      [4 * BACKOFF_BASE_MS, 4],
    ]) {
      await vi.advanceTimersByTimeAsync(wait - 10);
      expect(server.requests).toHaveLength(total - 1);
      await vi.advanceTimersByTimeAsync(10);
      expect(server.requests).toHaveLength(total);
    }
    const ids = server.requests.map((r) => r.events[0].event_id);
    expect(new Set(ids).size).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests).toHaveLength(4);
  });

  test('jitter spreads the delay below the exponential cap', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    const server = fakeServer((_req, n) => (n === 1 ? 'network-error' : { status: 200 }));
    const px = startClient();
    px.track('a');
    await px.flush();
    await vi.advanceTimersByTimeAsync(0.25 * BACKOFF_BASE_MS - 1);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
  });

  test('429 waits for Retry-After seconds', async () => {
    vi.useFakeTimers();
    const server = fakeServer((_req, n) =>
      n === 1 ? { status: 429, headers: { 'Retry-After': '7' } } : { status: 200 },
    );
    const px = startClient();
    px.track('a');
    await px.flush();
    px.track('b'); // a flush meanwhile must not cut the wait short
    await px.flush();
    await vi.advanceTimersByTimeAsync(6999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].events.map((e) => e.event)).toEqual(['a', 'b']);
    expect(server.requests[1].events[0].event_id).toBe(server.requests[0].events[0].event_id);
  });

  test('503 is retried', async () => {
    vi.useFakeTimers();
    const server = fakeServer((_req, n) => (n === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 200 }));
    const px = startClient();
    px.track('a');
    await px.flush();
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.requests).toHaveLength(2);
  });

  test.each([400, 401])('%i is not retried and the batch is dropped', async (status) => {
    vi.useFakeTimers();
    const server = fakeServer((_req, n) => (n === 1 ? { status } : { status: 200 }));
    const px = startClient();
    px.track('a');
    await px.flush();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(server.requests).toHaveLength(1);
    px.track('b');
    await px.flush();
    expect(server.requests[1].events.map((e) => e.event)).toEqual(['b']);
  });

  test('413 splits the batch; a single event too large is dropped', async () => {
    const server = fakeServer((req) =>
      req.events.length > 2 || req.events.some((e) => e.event === 'huge') ? { status: 413 } : { status: 200 },
    );
    const px = startClient();
    for (let i = 0; i < 5; i++) px.track(`e${i}`);
    px.track('huge');
    px.track('e5');
    await px.flush();
    const delivered = server.requests.filter((r) => r.events.length <= 2 && !r.events.some((e) => e.event === 'huge'));
    expect(delivered.flatMap((r) => r.events.map((e) => e.event))).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    expect(server.requests.filter((r) => r.events.length === 1 && r.events[0].event === 'huge')).toHaveLength(1);
  });
});

describe('offline queue', () => {
  test('failed events are stored and sent by the next page load with the same ids', async () => {
    let online = false;
    const server = fakeServer(() => (online ? { status: 200 } : 'network-error'));
    const first = startClient();
    first.track('offline-1');
    first.track('offline-2');
    await first.flush();
    const stored = storedQueue();
    expect(stored.map((e) => e.event)).toEqual(['offline-1', 'offline-2']);

    online = true;
    server.requests.length = 0;
    const second = startClient(); // a reload: same storage, new client
    await second.flush();
    expect(server.events().map((e) => e.event_id)).toEqual(stored.map((e) => e.event_id));
    expect(storedQueue()).toEqual([]);
  });

  test('is bounded: the oldest are dropped and the drop is reported', async () => {
    let online = false;
    const server = fakeServer(() => (online ? { status: 200 } : 'network-error'));
    const px = startClient({ bufferSize: MAX_QUEUED });
    for (let i = 0; i < MAX_QUEUED + 5; i++) px.track(`e${i}`);
    await px.flush();
    const stored = storedQueue();
    expect(stored).toHaveLength(MAX_QUEUED);
    expect(stored[0].event).toBe('e5');

    online = true;
    const failed = server.requests.length;
    window.dispatchEvent(new Event('online'));
    await px.flush();
    const delivered = server.requests.slice(failed).flatMap((r) => r.events);
    expect(delivered.map((e) => e.event)).toEqual(stored.map((e) => e.event));
    expect(delivered.filter((e) => e.properties.$dropped_events).map((e) => e.properties.$dropped_events)).toEqual([5]);
  });

  test('coming back online retries at once', async () => {
    vi.useFakeTimers();
    let online = false;
    const server = fakeServer(() => (online ? { status: 200 } : 'network-error'));
    const px = startClient();
    px.track('a');
    await px.flush();
    online = true;
    window.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].events[0].event).toBe('a');
  });

  test('a page with navigator.onLine false waits instead of sending', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    const px = startClient();
    px.track('a');
    await px.flush();
    expect(server.requests).toHaveLength(0);
    expect(storedQueue().map((e) => e.event)).toEqual(['a']);
  });
});

describe('leaving the page', () => {
  test('pagehide hands the events to a beacon, key in the URL; they stay stored until a fetch is answered', async () => {
    const server = fakeServer();
    const px = startClient({ compression: 'gzip' });
    px.track('last-words');
    window.dispatchEvent(new Event('pagehide'));
    expect(server.requests).toHaveLength(1); // synchronously, before the page is gone
    const [beacon] = server.requests;
    expect(beacon.beacon).toBe(true);
    expect(beacon.url).toBe(`${HOST}/api/v1/events/batch?key=${API_KEY}`);
    expect(beacon.events.map((e) => e.event)).toEqual(['last-words']);
    expect(typeof beacon.sentAt).toBe('string');
    expect(storedQueue().map((e) => e.event)).toEqual(['last-words']);
    // visibilitychange follows pagehide: what the beacon took is not sent again.
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    delete (document as { visibilityState?: string }).visibilityState;
    expect(server.requests).toHaveLength(1);
    // Back from the back/forward cache: a flush sends them (PX drops the repeat) and forgets them.
    await px.flush();
    expect(server.requests.map((r) => r.beacon)).toEqual([true, false]);
    expect(storedQueue()).toEqual([]);
  });

  test('a refused beacon falls back to a keepalive request, answered before events leave storage', async () => {
    let answer!: () => void;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const server = fakeServer();
    const fetch = server.fetch.getMockImplementation()!;
    server.fetch.mockImplementation(async (url, init) => {
      const res = fetch(url, init);
      await gate;
      return res;
    });
    server.sendBeacon.mockReturnValue(false); // over the browser's quota
    const px = startClient({ compression: 'gzip' });
    px.track('last-words');
    window.dispatchEvent(new Event('pagehide'));
    expect(server.sendBeacon).toHaveBeenCalledTimes(1);
    expect(server.fetch).toHaveBeenCalledTimes(1); // synchronously, before the page is gone
    await settle();
    expect(server.requests[0].keepalive).toBe(true);
    expect(server.requests[0].gzipped).toBe(false);
    expect(storedQueue().map((e) => e.event)).toEqual(['last-words']);
    answer();
    await vi.waitFor(() => expect(storedQueue()).toEqual([]));
    await px.flush();
    expect(server.requests).toHaveLength(1); // not sent again
  });

  test('a keepalive body stays under the browser limit; the rest waits in storage', async () => {
    const server = fakeServer(() => 'network-error');
    const px = startClient({ bufferSize: MAX_QUEUED });
    for (let i = 0; i < 40; i++) px.track('e', { blob: 'x'.repeat(2000) });
    document.dispatchEvent(new Event('visibilitychange'));
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    delete (document as { visibilityState?: string }).visibilityState;
    await settle();
    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0];
    expect(sent.keepalive).toBe(true);
    const bytes = new TextEncoder().encode(JSON.stringify({ events: sent.events, sent_at: sent.sentAt })).length;
    expect(bytes).toBeLessThanOrEqual(KEEPALIVE_MAX_BYTES);
    expect(sent.events.length).toBeGreaterThan(20);
    expect(sent.events.length).toBeLessThan(40);
    expect(storedQueue()).toHaveLength(40);
  });
});

describe('sessions', () => {
  test('rotate after 30 minutes of inactivity, and survive reloads', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z') });
    fakeServer();
    const px = startClient();
    px.track('a');
    const first = px.getSessionId();
    vi.advanceTimersByTime(29 * 60_000);
    px.track('b');
    expect(px.getSessionId()).toBe(first);
    vi.advanceTimersByTime(29 * 60_000); // activity at 29 min kept it alive
    px.track('c');
    expect(px.getSessionId()).toBe(first);

    const reloaded = startClient();
    expect(reloaded.getSessionId()).toBe(first);
    expect(reloaded.getDistinctId()).toBe(px.getDistinctId());

    vi.advanceTimersByTime(31 * 60_000);
    reloaded.track('d');
    const second = reloaded.getSessionId();
    expect(second).not.toBe(first);
    expect(second).toMatch(UUID);
  });

  test('a session kept alive by another tab is joined, not replaced', () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z') });
    fakeServer();
    const tabA = startClient();
    tabA.track('a');
    const tabB = startClient();
    vi.advanceTimersByTime(20 * 60_000);
    tabB.track('b'); // writes the store: activity at 20 min
    vi.advanceTimersByTime(20 * 60_000);
    tabA.track('c'); // 40 min after tabA's own last event, 20 after tabB's
    expect(tabA.getSessionId()).toBe(tabB.getSessionId());
  });
});

describe('identity', () => {
  test('identify links the anonymous id, sets traits, and later events use the user id', async () => {
    const server = fakeServer();
    const px = startClient();
    const anon = px.getDistinctId()!;
    px.track('before');
    px.identify('user-42', { plan: 'pro' });
    px.track('after');
    px.identify('user-42'); // nothing new: no event
    await px.flush();
    const [before, identify, after] = server.events();
    expect(server.events()).toHaveLength(3);
    expect(before.distinct_id).toBe(anon);
    expect(identify).toMatchObject({
      event: '$identify',
      distinct_id: 'user-42',
      properties: { $anon_distinct_id: anon },
      $set: { plan: 'pro' },
    });
    expect(after.distinct_id).toBe('user-42');
    expect(startClient().getDistinctId()).toBe('user-42'); // persisted
  });

  test('reset starts a new anonymous person and session', () => {
    fakeServer();
    const px = startClient();
    const anon = px.getDistinctId();
    const session = px.getSessionId();
    px.register({ plan: 'pro' });
    px.identify('u1');
    px.reset();
    expect(px.getDistinctId()).not.toBe(anon);
    expect(px.getDistinctId()).not.toBe('u1');
    expect(px.getSessionId()).not.toBe(session);
  });

  test('alias, group, feedback and page send their events', async () => {
    const server = fakeServer();
    const px = startClient();
    px.alias('backend-7');
    px.group('company', 42, { name: 'Acme' });
    px.track('in-group');
    px.feedback({ rating: 4, comment: 'nice', topic: 'search' });
    px.page({ section: 'docs' });
    await px.flush();
    const [alias, group, inGroup, feedback, page] = server.events();
    expect(alias).toMatchObject({ event: '$create_alias', properties: { alias: 'backend-7' } });
    expect(group).toMatchObject({ event: 'group', properties: { group_type: 'company', group_id: '42', name: 'Acme' } });
    expect(inGroup.properties.$groups).toEqual({ company: '42' });
    expect(feedback).toMatchObject({ event: 'feedback', properties: { rating: 4, comment: 'nice', topic: 'search' } });
    expect(page).toMatchObject({ event: 'page_view', properties: { section: 'docs' } });
  });

  test('super properties go with every event until unregistered, and persist', async () => {
    const server = fakeServer();
    const px = startClient();
    px.register({ app: 'web', tier: 'gold' });
    px.track('a', { tier: 'override' });
    px.unregister('app');
    px.track('b');
    await px.flush();
    expect(server.events().map((e) => e.properties)).toEqual([{ app: 'web', tier: 'override' }, { tier: 'gold' }]);
    const reloaded = startClient();
    reloaded.track('c');
    await reloaded.flush();
    expect(server.events()[2].properties).toEqual({ tier: 'gold' });
  });

  test('cookie persistence keeps identity in a cookie', () => {
    fakeServer();
    const px = startClient({ persistence: 'cookie' });
    px.identify('cookie-user');
    expect(document.cookie).toContain(`px_state_${API_KEY}=`);
    expect(startClient({ persistence: 'cookie' }).getDistinctId()).toBe('cookie-user');
  });

  test('memory persistence stores no identity', () => {
    fakeServer();
    const px = startClient({ persistence: 'memory' });
    px.identify('ephemeral');
    px.track('a');
    expect(localStorage.length).toBe(0);
    expect(document.cookie).toBe('');
    expect(startClient({ persistence: 'memory' }).getDistinctId()).not.toBe('ephemeral');
  });
});

describe('consent', () => {
  test('opting out stops capture, erases queued events and ids, and persists', async () => {
    const server = fakeServer(() => 'network-error');
    const px = startClient();
    px.track('queued');
    await px.flush();
    expect(storedQueue()).toHaveLength(1);
    px.optOut();
    expect(px.hasOptedOut()).toBe(true);
    expect(storedQueue()).toEqual([]);
    expect(localStorage.getItem(`px_state_${API_KEY}`)).toBeNull();
    px.track('after-opt-out');
    await px.flush();
    expect(server.events().map((e) => e.event)).toEqual(['queued']); // only the first, failed attempt

    const setItem = vi.spyOn(Storage.prototype, 'setItem');
    const reloaded = startClient();
    expect(reloaded.hasOptedOut()).toBe(true);
    reloaded.track('still-out');
    reloaded.register({ a: 1 });
    expect(setItem.mock.calls.filter(([key]) => key.startsWith('px_state_'))).toEqual([]); // no id stored
    reloaded.optIn();
    expect(startClient().hasOptedOut()).toBe(false);
  });

  test('opting in again resumes sending', async () => {
    const server = fakeServer();
    const px = startClient();
    px.optOut();
    px.optIn();
    px.track('welcome-back');
    await px.flush();
    expect(server.events().map((e) => e.event)).toEqual(['welcome-back']);
  });

  test('respectDoNotTrack treats Do Not Track as an opt-out, unless the person opted in', async () => {
    const server = fakeServer();
    vi.spyOn(navigator, 'doNotTrack', 'get').mockReturnValue('1');
    const px = startClient({ respectDoNotTrack: true });
    expect(px.hasOptedOut()).toBe(true);
    px.track('a');
    await px.flush();
    expect(server.requests).toHaveLength(0);
    expect(startClient().hasOptedOut()).toBe(false); // not asked to respect it
    px.optIn();
    expect(startClient({ respectDoNotTrack: true }).hasOptedOut()).toBe(false);
  });
});

describe('never throws into the page', () => {
  test('a fetch and a beacon that throw synchronously', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    vi.stubGlobal('fetch', vi.fn(boom));
    vi.spyOn(navigator, 'sendBeacon').mockImplementation(boom);
    const px = startClient();
    expect(() => px.track('a')).not.toThrow();
    await expect(px.flush()).resolves.toBeUndefined();
    expect(() => window.dispatchEvent(new Event('pagehide'))).not.toThrow();
    expect(storedQueue().map((e) => e.event)).toEqual(['a']);
  });

  test('storage that throws on every call', async () => {
    const server = fakeServer();
    for (const method of ['getItem', 'setItem', 'removeItem'] as const) {
      vi.spyOn(Storage.prototype, method).mockImplementation(() => {
        throw new DOMException('denied', 'SecurityError');
      });
    }
    const px = startClient();
    px.identify('u1');
    px.track('a');
    await px.flush();
    px.optOut();
    px.track('dropped');
    px.optIn();
    px.track('b');
    window.dispatchEvent(new Event('pagehide'));
    await px.flush();
    // 'b' twice: by the beacon, then by the flush (PX keeps one).
    expect(server.events().map((e) => e.event)).toEqual(['$identify', 'a', 'b', 'b']);
  });

  test('unserializable properties drop only their own event', async () => {
    const server = fakeServer();
    const px = startClient();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    px.track('ok-1');
    px.track('bad', cyclic);
    px.track('big', { n: BigInt(1) });
    px.track('ok-2');
    await px.flush();
    expect(server.events().map((e) => e.event)).toEqual(['ok-1', 'ok-2']);
  });

  test('calls before init, bad arguments and a broken init do nothing', async () => {
    const server = fakeServer();
    const px = new Client();
    expect(() => {
      px.track('early');
      px.identify('u');
      px.reset();
      px.optOut();
    }).not.toThrow();
    expect(px.hasOptedOut()).toBe(false);
    await expect(px.flush()).resolves.toBeUndefined();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    px.init(undefined as never);
    px.init({ apiKey: '', host: HOST });
    expect(warn).toHaveBeenCalledTimes(2);
    px.init({ apiKey: API_KEY, host: HOST, autocapture: false, compression: 'none' });
    px.track(undefined as never);
    px.track('ok', 'not-an-object' as never);
    px.identify('' as never);
    await px.flush();
    expect(server.events().map((e) => [e.event, e.properties])).toEqual([['ok', {}]]);
  });
});
