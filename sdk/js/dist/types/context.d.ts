import type { PageContext, WireEvent } from './types';
type StaticContext = Omit<WireEvent['context'], 'page'>;
/**
 * The parts of an event's context that do not change while the page lives,
 * read once: `Intl` time zone resolution in particular is too slow to repeat
 * on every `track`.
 */
export declare function staticContext(): StaticContext;
/** The page as it is now (single-page apps change it without reloading). */
export declare function pageContext(): PageContext;
export {};
