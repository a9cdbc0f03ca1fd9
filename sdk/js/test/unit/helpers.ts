import { afterEach, beforeEach, vi } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { Client } from '../../src/client';
import type { InitOptions, WireEvent } from '../../src/types';

export const API_KEY = 'pxi_0123456789abcdefghijklmnopqrstuv';
export const HOST = 'https://px.test';

/**
 * Each test gets a clean page: storage and cookies emptied, and the
 * listeners and history patches of earlier tests' clients removed, so a
 * client from one test cannot react to events dispatched in another.
 */
export function isolatePage(): void {
  const added: [EventTarget, string, EventListenerOrEventListenerObject, unknown][] = [];
  const { pushState, replaceState } = history;
  beforeEach(() => {
    localStorage.clear();
    for (const c of document.cookie.split('; ')) {
      if (c) document.cookie = `${c.split('=')[0]}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
    }
    for (const target of [window, document] as EventTarget[]) {
      const original = target.addEventListener;
      vi.spyOn(target, 'addEventListener').mockImplementation(function (this: EventTarget, type, listener, options) {
        added.push([target, type, listener!, options]);
        return original.call(target, type, listener, options);
      });
    }
  });
  afterEach(() => {
    // Clients of this test may still hold retry timers: opted out, they send and store nothing more.
    for (const client of clients.splice(0)) client.optOut();
    for (const [target, type, listener, options] of added) {
      target.removeEventListener(type, listener, options as EventListenerOptions);
    }
    added.length = 0;
    history.pushState = pushState;
    history.replaceState = replaceState;
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });
}

export interface Sent {
  url: string;
  headers: Record<string, string>;
  /** Sent with navigator.sendBeacon (no headers, no answer). */
  beacon: boolean;
  keepalive: boolean;
  gzipped: boolean;
  events: WireEvent[];
  sentAt: string;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'network-error';

/**
 * A stand-in for the PX server behind `fetch` and `navigator.sendBeacon`:
 * records every request (decompressing gzip bodies) and answers a fetch
 * with what `answer` returns for it, 200 by default (a beacon gets no
 * answer).
 */
export function fakeServer(answer: (req: Sent, n: number) => Answer = () => ({ status: 200 })) {
  const requests: Sent[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const gzipped = headers['Content-Encoding'] === 'gzip';
    const text = gzipped
      ? gunzipSync(Buffer.from(init.body as ArrayBuffer)).toString('utf8')
      : (init.body as string);
    const body = JSON.parse(text);
    const req: Sent = {
      url,
      headers,
      beacon: false,
      keepalive: !!init.keepalive,
      gzipped,
      events: body.events,
      sentAt: body.sent_at,
    };
    requests.push(req);
    const a = answer(req, requests.length);
    if (a === 'network-error') throw new TypeError('Failed to fetch');
    const accepted = a.status === 200 ? req.events.length : 0;
    return new Response(JSON.stringify(a.body ?? { accepted, duplicates: 0, rejected: [] }), {
      status: a.status,
      headers: a.headers,
    });
  });
  vi.stubGlobal('fetch', fetch);
  const sendBeacon = vi.spyOn(navigator, 'sendBeacon').mockImplementation((url, data) => {
    const body = JSON.parse(data as string);
    const sent = { headers: {}, beacon: true, keepalive: false, gzipped: false, events: body.events };
    requests.push({ ...sent, url: String(url), sentAt: body.sent_at });
    return true;
  });
  return {
    fetch,
    sendBeacon,
    requests,
    /** Every event received, in order, repeats included. */
    events: () => requests.flatMap((r) => r.events),
  };
}

const clients: Client[] = [];

/** A client as a page would start it; autocapture off unless asked for. */
export function startClient(options: Partial<InitOptions> = {}): Client {
  const client = new Client();
  clients.push(client);
  client.init({ apiKey: API_KEY, host: HOST, autocapture: false, compression: 'none', ...options });
  return client;
}

/** The unsent events a client stored for later page loads. */
export function storedQueue(): WireEvent[] {
  return JSON.parse(localStorage.getItem(`px_queue_${API_KEY}`) ?? '[]');
}

/** Lets pending promise callbacks (a fetch answer, its JSON) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
