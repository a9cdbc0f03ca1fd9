export declare function setDebug(on: boolean): void;
/**
 * Logs when `debug` is on. Uses console.log, never console.error: the SDK's
 * own trouble must not look like the host page's errors, nor trip error
 * monitoring that watches the console.
 */
export declare function log(...args: unknown[]): void;
/**
 * Runs `fn`, swallowing what it throws. Analytics must never break the page
 * that embeds it, so every entry point from the host (public methods,
 * listeners, timers, patched functions) goes through here.
 */
export declare function safely<T>(what: string, fn: () => T): T | undefined;
/** `fn` wrapped by {@link safely}, for use as a listener or callback. */
export declare function guarded<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void;
/** addEventListener with the listener wrapped by {@link safely}. */
export declare function listen<E extends Event>(target: EventTarget, type: string, fn: (e: E) => void, options?: AddEventListenerOptions): void;
