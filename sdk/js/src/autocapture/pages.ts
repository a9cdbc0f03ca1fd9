import type { Capture, PageContext } from '../types';
import { pageContext } from '../context';
import type { ScrollDepth } from './scroll';
import { visiblePercent } from './scroll';

/**
 * What makes a new page view: path and query, plus the hash when it is a
 * route (`#/users`, `#!/users`) rather than an anchor on the same page.
 */
export function routeKey(): string {
  const hash = /^#[!/]/.test(location.hash) ? location.hash : '';
  return location.pathname + location.search + hash;
}

/**
 * `page_view` when the page loads and whenever a single-page app changes
 * route; `page_leave` for the page being left, with the time spent on it and
 * how far down it was seen.
 */
export class Pages {
  private key = routeKey();
  private page: PageContext = pageContext();
  private since = Date.now();

  constructor(
    private readonly capture: Capture,
    private readonly on: { pageview: boolean; pageleave: boolean },
    private readonly scroll: ScrollDepth,
  ) {
    this.view();
  }

  /** Called after every history change; only a new route counts. */
  check(): void {
    const key = routeKey();
    if (key === this.key) return;
    this.leave();
    this.key = key;
    this.page = pageContext();
    this.since = Date.now();
    this.scroll.reset();
    this.view();
  }

  /** The page is shown again from the back/forward cache: a new view. */
  restored(): void {
    this.since = Date.now();
    this.view();
  }

  /**
   * `page_leave` for the page being left. When the whole document goes
   * (`unloading`), what is in view still counts as seen; on a route change
   * the view may already show the next route, so only scrolling counts.
   */
  leave(unloading = false): void {
    if (!this.on.pageleave) return;
    const seen = unloading ? Math.max(this.scroll.max, visiblePercent()) : this.scroll.max;
    this.capture('page_leave', { duration_ms: Date.now() - this.since, max_scroll_percent: seen }, { page: this.page });
  }

  private view(): void {
    if (this.on.pageview) this.capture('page_view');
  }
}
