import type { Properties } from '../types';
/**
 * What is recorded of a thrown value: `type`, `message` and `stack`. Errors
 * from other frames fail `instanceof Error`, so anything with a string
 * `message` counts as one.
 */
export declare function describeError(thrown: unknown, fallbackType: string, fallbackMessage?: string): Properties;
/**
 * Uncaught errors and unhandled promise rejections, each handed to
 * `report` (which records `error` and `error_click`). Rate-limited. The
 * script that threw is `source`, its position `line` and `column`.
 */
export declare function watchErrors(report: (error: Properties) => void): void;
