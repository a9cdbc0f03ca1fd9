let debugging = false;

export function setDebug(on: boolean): void {
  debugging = on;
}

/**
 * Logs when `debug` is on. Uses console.log, never console.error: the SDK's
 * own trouble must not look like the host page's errors, nor trip error
 * monitoring that watches the console.
 */
export function log(...args: unknown[]): void {
  if (debugging) console.log('[px]', ...args);
}

/**
 * Runs `fn`, swallowing what it throws. Analytics must never break the page
 * that embeds it, so every entry point from the host (public methods,
 * listeners, timers, patched functions) goes through here.
 */
export function safely<T>(what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    log(what + ' failed:', e);
    return undefined;
  }
}

/** `fn` wrapped by {@link safely}, for use as a listener or callback. */
export function guarded<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    safely(what, () => fn(...args));
  };
}

/** addEventListener with the listener wrapped by {@link safely}. */
export function listen<E extends Event>(
  target: EventTarget,
  type: string,
  fn: (e: E) => void,
  options?: AddEventListenerOptions,
): void {
  target.addEventListener(type, guarded(type + ' listener', fn) as EventListener, options);
}
