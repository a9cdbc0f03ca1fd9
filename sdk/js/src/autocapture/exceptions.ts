import type { Properties } from '../types';
import { listen } from '../safe';

const MAX_STACK = 4000;
/** A page throwing in a loop must not flood the queue: at most this many per window. */
const MAX_PER_WINDOW = 10;
const WINDOW_MS = 10_000;

/**
 * What is recorded of a thrown value: `type`, `message` and `stack`. Errors
 * from other frames fail `instanceof Error`, so anything with a string
 * `message` counts as one.
 */
export function describeError(thrown: unknown, fallbackType: string, fallbackMessage = ''): Properties {
  const e = thrown as { name?: unknown; message?: unknown; stack?: unknown } | null;
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    const props: Properties = { type: typeof e.name === 'string' ? e.name : fallbackType, message: e.message };
    if (typeof e.stack === 'string') props.stack = e.stack.slice(0, MAX_STACK);
    return props;
  }
  const message = thrown === undefined || thrown === null ? fallbackMessage : String(thrown);
  return { type: fallbackType, message };
}

/**
 * Uncaught errors and unhandled promise rejections, each handed to
 * `report` (which records `error` and `error_click`). Rate-limited. The
 * script that threw is `source`, its position `line` and `column`.
 */
export function watchErrors(report: (error: Properties) => void): void {
  let windowStart = 0;
  let count = 0;
  const limited = (props: Properties) => {
    const now = Date.now();
    if (now - windowStart > WINDOW_MS) {
      windowStart = now;
      count = 0;
    }
    if (++count <= MAX_PER_WINDOW) report(props);
  };
  listen<ErrorEvent>(window, 'error', (e) => {
    const props = describeError(e.error, 'Error', e.message);
    if (e.filename) Object.assign(props, { source: e.filename, line: e.lineno, column: e.colno });
    limited(props);
  });
  listen<PromiseRejectionEvent>(window, 'unhandledrejection', (e) => {
    limited(describeError(e.reason, 'UnhandledRejection'));
  });
}
