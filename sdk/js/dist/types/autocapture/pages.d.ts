import type { Capture } from '../types';
import type { ScrollDepth } from './scroll';
/**
 * What makes a new page view: path and query, plus the hash when it is a
 * route (`#/users`, `#!/users`) rather than an anchor on the same page.
 */
export declare function routeKey(): string;
/**
 * `page_view` when the page loads and whenever a single-page app changes
 * route; `page_leave` for the page being left, with the time spent on it and
 * how far down it was seen.
 */
export declare class Pages {
    private readonly capture;
    private readonly on;
    private readonly scroll;
    private key;
    private page;
    private since;
    constructor(capture: Capture, on: {
        pageview: boolean;
        pageleave: boolean;
    }, scroll: ScrollDepth);
    /** Called after every history change; only a new route counts. */
    check(): void;
    /** The page is shown again from the back/forward cache: a new view. */
    restored(): void;
    /**
     * `page_leave` for the page being left. When the whole document goes
     * (`unloading`), what is in view still counts as seen; on a route change
     * the view may already show the next route, so only scrolling counts.
     */
    leave(unloading?: boolean): void;
    private view;
}
