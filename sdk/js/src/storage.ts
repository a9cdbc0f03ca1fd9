import type { Persistence } from './types';
import { log } from './safe';

/**
 * A key-value store that never throws: storage can be disabled, full, or
 * forbidden (sandboxed iframes, strict privacy modes), and none of that may
 * reach the host page.
 */
export interface Store {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export function memoryStore(): Store {
  const data = new Map<string, string>();
  return {
    get: (key) => data.get(key) ?? null,
    set: (key, value) => void data.set(key, value),
    remove: (key) => void data.delete(key),
  };
}

/** localStorage, or null when the browser refuses it. */
export function localStore(): Store | null {
  let ls: Storage;
  try {
    ls = window.localStorage;
    const probe = '__px_probe';
    ls.setItem(probe, '1');
    ls.removeItem(probe);
  } catch {
    return null;
  }
  return {
    get: (key) => {
      try {
        return ls.getItem(key);
      } catch {
        return null;
      }
    },
    set: (key, value) => {
      try {
        ls.setItem(key, value);
      } catch (e) {
        log('localStorage refused a write:', e);
      }
    },
    remove: (key) => {
      try {
        ls.removeItem(key);
      } catch {
        // Nothing to undo: the key stays until the browser allows writes again.
      }
    },
  };
}

const YEAR_SECONDS = 365 * 24 * 3600;

/** First-party cookies, readable by every path of the site. */
export function cookieStore(): Store {
  const write = (key: string, value: string, lifetime: string) => {
    try {
      const secure = location.protocol === 'https:' ? '; Secure' : '';
      document.cookie = `${key}=${encodeURIComponent(value)}; path=/; ${lifetime}; SameSite=Lax${secure}`;
    } catch (e) {
      log('cookie refused a write:', e);
    }
  };
  return {
    get: (key) => {
      try {
        for (const part of document.cookie.split('; ')) {
          const eq = part.indexOf('=');
          if (part.slice(0, eq) === key) return decodeURIComponent(part.slice(eq + 1));
        }
      } catch {
        // Unreadable cookies read as absent.
      }
      return null;
    },
    set: (key, value) => write(key, value, `max-age=${YEAR_SECONDS}`),
    remove: (key) => write(key, '', 'expires=Thu, 01 Jan 1970 00:00:00 GMT'),
  };
}

/**
 * The stores one client uses. `state` holds identity, the session and super
 * properties where `persistence` says. `consent` keeps the opt-in/out choice
 * across reloads even under `memory` persistence: an opt-out forgotten on
 * reload would track someone who said no. `queue` holds unsent events: always
 * localStorage (too big for a cookie), and none under `memory` persistence.
 */
export interface Stores {
  state: Store;
  consent: Store;
  queue: Store | null;
}

export function openStores(persistence: Persistence): Stores {
  const local = localStore();
  if (persistence === 'memory') {
    return { state: memoryStore(), consent: local ?? cookieStore(), queue: null };
  }
  if (persistence === 'cookie') {
    const cookies = cookieStore();
    return { state: cookies, consent: cookies, queue: local };
  }
  const state = local ?? cookieStore();
  return { state, consent: state, queue: local };
}
