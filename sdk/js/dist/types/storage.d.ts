import type { Persistence } from './types';
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
export declare function memoryStore(): Store;
/** localStorage, or null when the browser refuses it. */
export declare function localStore(): Store | null;
/** First-party cookies, readable by every path of the site. */
export declare function cookieStore(): Store;
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
export declare function openStores(persistence: Persistence): Stores;
